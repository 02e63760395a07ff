'use strict';

const { parseDay, formatDay, addDays, startOfWeek, daysBetween } = require('./dates');

/**
 * Sprints are `lengthWeeks` long and always start on a Monday; the first one starts in
 * the week of `firstDay`.
 */
function sprintFor(day, firstDay, lengthWeeks = 2) {
  const origin = startOfWeek(parseDay(firstDay));
  const date = parseDay(day);
  const index = Math.floor(daysBetween(origin, date) / (7 * lengthWeeks));
  const start = addDays(origin, index * 7 * lengthWeeks);
  return {
    number: index + 1,
    start: formatDay(start),
    end: formatDay(addDays(start, 7 * lengthWeeks - 1)),
  };
}

function workingDaysLeft(day, firstDay, lengthWeeks = 2) {
  const { end } = sprintFor(day, firstDay, lengthWeeks);
  let left = 0;
  for (let d = parseDay(day); d <= parseDay(end); d = addDays(d, 1)) {
    const weekday = d.getUTCDay();
    if (weekday !== 0 && weekday !== 6) left++;
  }
  return left;
}

module.exports = { sprintFor, workingDaysLeft };
