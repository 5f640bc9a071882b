-- GET /api/v1/gifts?limit=50&cursor=<after a random id>: a page of 50 of the
-- default sort (newest first), starting anywhere in the table.
local common = require("common")
setup, init, done = common.setup, common.init, common.done

function request()
  -- the cursor that a page ending just above this id would hand out
  local after = math.random(low + 50, high + 1)
  local cursor = common.b64url('["recent",null,' .. after .. ']')
  return wrk.format("GET", "/api/v1/gifts?limit=50&cursor=" .. cursor)
end
