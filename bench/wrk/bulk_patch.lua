-- PATCH /api/v1/gifts {"ids": [50 distinct random ids], "changes": {...}}:
-- the dashboard's multi-select "From Santa" action.
local common = require("common")
setup, init, done = common.setup, common.init, common.done
local flag = false

function request()
  local seen, ids = {}, {}
  while #ids < 50 do
    local id = common.random_id()
    if not seen[id] then
      seen[id] = true
      ids[#ids + 1] = id
    end
  end
  flag = not flag
  local body = '{"ids": [' .. table.concat(ids, ", ") .. '], "changes": '
    .. '{"from_santa": ' .. (flag and "true" or "false") .. '}}'
  return wrk.format("PATCH", "/api/v1/gifts", common.json_headers, body)
end
