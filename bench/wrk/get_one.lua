-- GET /api/v1/gifts/<random id>
local common = require("common")
setup, init, done = common.setup, common.init, common.done

function request()
  return wrk.format("GET", "/api/v1/gifts/" .. common.random_id())
end
