'use strict';

const { describe, it } = require('node:test');
const assert = require('node:assert/strict');

const { parseDay, formatDay, startOfWeek, daysBetween, sprintFor, workingDaysLeft } = require('../src/index');

describe('dates', () => {
  it('parses and formats UTC days', () => {
    assert.equal(formatDay(parseDay('2024-02-29')), '2024-02-29');
    assert.throws(() => parseDay('29/02/2024'), TypeError);
  });

  it('finds the Monday of a week', () => {
    assert.equal(formatDay(startOfWeek(parseDay('2024-03-14'))), '2024-03-11');
    assert.equal(formatDay(startOfWeek(parseDay('2024-03-17'))), '2024-03-11');
    assert.equal(formatDay(startOfWeek(parseDay('2024-03-11'))), '2024-03-11');
  });

  it('counts days between dates', () => {
    assert.equal(daysBetween(parseDay('2024-01-01'), parseDay('2024-03-01')), 60);
  });
});

describe('sprints', () => {
  it('numbers two-week sprints from the first Monday', () => {
    assert.deepEqual(sprintFor('2024-01-24', '2024-01-03'), {
      number: 2,
      start: '2024-01-15',
      end: '2024-01-28',
    });
  });

  it('counts working days left in the sprint', () => {
    assert.equal(workingDaysLeft('2024-01-24', '2024-01-03'), 3);
  });
});
