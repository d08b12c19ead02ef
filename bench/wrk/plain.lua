-- wrk -s bench/wrk/plain.lua: POST $BENCH_BODY to $BENCH_PATH, no X-Forwarded-For (the baseline
-- server has no limiter to feed).
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local xff = dofile(dir .. "xff.lua")

function init(args)
  wrk.path = os.getenv("BENCH_PATH") or "/tokens/verify"
  if os.getenv("BENCH_AUTH") == "bearer" then -- gateway forward-auth: GET, the token as bearer
    wrk.method = "GET"
    wrk.headers["Authorization"] = "Bearer " .. xff.token(os.getenv("BENCH_BODY") or "")
    return
  end
  wrk.method = "POST"
  wrk.body = os.getenv("BENCH_BODY") or "{}"
  wrk.headers["Content-Type"] = "application/json"
end

function done(summary, latency, requests) xff.done(summary, latency) end
