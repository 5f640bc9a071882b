-- GET /api/v1/gifts?limit=50&cursor=<after a random id>: a page of 50 of the
-- default sort (newest first), starting anywhere in the table. Cursors are
-- sealed by the server's key: the bench writes them (bench/page_cursors.py) to
-- the file BENCH_CURSORS names, one a line.
local common = require("common")
setup, done = common.setup, common.done
local cursors = {}

function init(args)
  common.init(args)
  for line in io.lines(os.getenv("BENCH_CURSORS")) do
    cursors[#cursors + 1] = line
  end
end

function request()
  local cursor = cursors[math.random(1, #cursors)]
  return wrk.format("GET", "/api/v1/gifts?limit=50&cursor=" .. cursor)
end
