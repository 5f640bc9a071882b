-- GET /api/v1/gifts?limit=50&person_ids=<one of the 10 seeded people>: the first
-- page of the gifts for one person (an avatar chip of the action bar).
local common = require("common")
setup, init, done = common.setup, common.init, common.done

function request()
  return wrk.format("GET", "/api/v1/gifts?limit=50&person_ids=" .. math.random(1, 10))
end
