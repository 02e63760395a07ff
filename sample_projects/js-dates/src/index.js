'use strict';

module.exports = { ...require('./dates'), ...require('./sprints') };
