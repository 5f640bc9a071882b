-- Shared by the bench scripts (found through LUA_PATH=bench/wrk/?.lua).
-- Each wrk thread has its own Lua state: setup() numbers the threads so each
-- seeds its own random stream; init() reads the id range "<low> <high>" given
-- after `--` on the wrk command line, and the bearer token from BENCH_TOKEN
-- (every request is authenticated); done() prints one JSON line for bench/load.py.
local M = {}

local counter = 0
local threads = {}

function M.setup(thread)
  counter = counter + 1
  thread:set("thread_id", counter)
  table.insert(threads, thread)
end

function M.init(args)
  low = tonumber(args[1]) or 1
  high = tonumber(args[2]) or 10000
  math.randomseed(os.time() * 1000 + (thread_id or 0) * 7919)
  -- LuaJIT's first numbers after seeding are poorly spread: skip a few.
  for _ = 1, 10 do math.random() end
  local token = os.getenv("BENCH_TOKEN") or ""
  -- wrk.format uses wrk.headers only when a request gives no headers of its
  -- own: M.json_headers carries the token too.
  wrk.headers["Authorization"] = "Bearer " .. token
  M.json_headers = {
    ["Authorization"] = "Bearer " .. token,
    ["Content-Type"] = "application/json",
  }
end

function M.random_id()
  return math.random(low, high)
end

function M.done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "bytes": %d, '
      .. '"non_2xx_3xx": %d, "connect_errors": %d, "read_errors": %d, '
      .. '"write_errors": %d, "timeouts": %d, "mean_us": %.1f, '
      .. '"p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d}\n',
    summary.requests, summary.duration, summary.bytes, e.status, e.connect,
    e.read, e.write, e.timeout, latency.mean, latency:percentile(50),
    latency:percentile(90), latency:percentile(99), latency.max))
end

return M
