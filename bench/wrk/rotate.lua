-- wrk -s bench/wrk/rotate.lua: POST $BENCH_BODY to $BENCH_PATH with a rotating X-Forwarded-For
-- (see xff.lua). Used for /tokens/verify (real server) and /auth/login (login flood).
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local xff = dofile(dir .. "xff.lua")

local reqs, n, i

function setup(thread) xff.setup(thread) end

function init(args)
  reqs = xff.init()
  n, i = #reqs, 0
end

function request()
  i = i % n + 1
  return reqs[i]
end

function done(summary, latency, requests) xff.done(summary, latency) end
