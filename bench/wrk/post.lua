-- POST /api/v1/gifts with a realistic new gift (some without a price).
local common = require("common")
setup, init, done = common.setup, common.init, common.done
local things = {"train set", "puzzle", "scarf", "board game", "kite", "novel"}
local priorities = {"low", "medium", "high"}
local n = 0

function request()
  n = n + 1
  local price = "null"
  if math.random() > 0.15 then
    price = string.format("%d.%02d", math.random(1, 250), math.random(0, 99))
  end
  local body = string.format(
    '{"name": "Bench %s %d-%d", "price": %s, "priority": "%s", '
      .. '"url": "https://shop.example.com/p/%d", "from_santa": %s}',
    things[math.random(#things)], thread_id or 0, n, price,
    priorities[math.random(3)], n, math.random() < 0.3 and "true" or "false")
  return wrk.format("POST", "/api/v1/gifts", common.json_headers, body)
end
