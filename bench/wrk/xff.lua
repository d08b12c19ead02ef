-- Shared by bench/wrk/*.lua (loaded with dofile): per-thread pre-built requests, each with its
-- own X-Forwarded-For, so the server's per-IP limiter does its real work on every request while
-- every client stays under its cap.
--
-- Environment (set by bench/run.sh):
--   BENCH_IPS          number of distinct client addresses (default 20000): 10.a.b.c, a.b.c from the index
--   BENCH_THREADS      wrk's -t (default 1); thread k sends addresses k, k+T, k+2T, ... in a cycle,
--                      so every address gets the same share: the per-IP rate is exactly rate / BENCH_IPS
--   BENCH_PATH         request path
--   BENCH_BODY         JSON body
--   BENCH_BODIES_FILE  if set, one JSON body per line: the request of address i carries body
--                      i mod (number of lines), e.g. many access tokens instead of one
--   BENCH_AUTH         "bearer": send GET with the body's {"token": ...} as Authorization: Bearer
--                      and no body (gateway forward-auth, /auth/forward)
-- The addresses are header values only: every packet goes to the server on loopback.

local M = {}

function M.ip(i)
  return string.format("10.%d.%d.%d", math.floor(i / 65536) % 256, math.floor(i / 256) % 256, i % 256)
end

-- token reads the token of a {"token":"..."} body.
function M.token(body)
  return body:match('"token":"([^"]*)"') or ""
end

local next_id = 0
function M.setup(thread)
  thread:set("thread_id", next_id)
  next_id = next_id + 1
end

local function bodies()
  local file = os.getenv("BENCH_BODIES_FILE")
  if file == nil or file == "" then
    return { os.getenv("BENCH_BODY") or "{}" }
  end
  local out = {}
  for line in io.lines(file) do
    if line ~= "" then out[#out + 1] = line end
  end
  return out
end

function M.init()
  local n = tonumber(os.getenv("BENCH_IPS") or "20000")
  local t = tonumber(os.getenv("BENCH_THREADS") or "1")
  local path = os.getenv("BENCH_PATH") or "/tokens/verify"
  local bs = bodies()
  local total = math.max(n, #bs)
  local reqs = {}
  local bearer = os.getenv("BENCH_AUTH") == "bearer"
  for i = thread_id, total - 1, t do
    local b = bs[(i % #bs) + 1]
    if bearer then
      reqs[#reqs + 1] = wrk.format("GET", path, {
        ["Authorization"] = "Bearer " .. M.token(b),
        ["X-Forwarded-For"] = M.ip(i % n),
      })
    else
      reqs[#reqs + 1] = wrk.format("POST", path, {
        ["Content-Type"] = "application/json",
        ["X-Forwarded-For"] = M.ip(i % n),
      }, b)
    end
  end
  return reqs
end

-- done prints one machine-readable line that bench/run.sh parses.
function M.done(summary, latency)
  local e = summary.errors
  io.write(string.format(
    "BENCH requests=%d duration_us=%d non2xx=%d connect=%d read=%d write=%d timeout=%d p50_us=%d p99_us=%d\n",
    summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(99)))
end

return M
