-- GET /api/v1/gifts/summary: counts and money total of every gift (the chips).
local common = require("common")
setup, init, done = common.setup, common.init, common.done

function request()
  return wrk.format("GET", "/api/v1/gifts/summary")
end
