-- PATCH /api/v1/gifts/<random id> {"from_santa": true|false}: the toggle.
local common = require("common")
setup, done = common.setup, common.done
local flag = false

function init(args)
  common.init(args)
end

function request()
  flag = not flag
  local body = flag and '{"from_santa": true}' or '{"from_santa": false}'
  return wrk.format("PATCH", "/api/v1/gifts/" .. common.random_id(), common.json_headers, body)
end
