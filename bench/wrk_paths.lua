-- wrk script: rotate through the request paths listed in a file, check every answer.
--
--   wrk -t1 -c8 -d10s -s bench/wrk_paths.lua http://127.0.0.1:PORT -- PATHS_FILE MARKER
--
-- An answer counts as bad unless its status is 200 and its body contains MARKER (plain
-- text, not a pattern). done() prints one machine-readable line, WRK-RESULT key=value...

local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  paths = {}
  for line in io.lines(args[1]) do
    if #line > 0 then
      paths[#paths + 1] = line
    end
  end
  marker = args[2] or ""
  bad = 0
  first_bad = ""
  -- each thread starts at a different place in the list
  counter = (id * 7919) % #paths + 1
end

function request()
  local path = paths[counter]
  counter = counter % #paths + 1
  return wrk.format("GET", path)
end

function response(status, headers, body)
  if status ~= 200 or not string.find(body, marker, 1, true) then
    bad = bad + 1
    if first_bad == "" then
      first_bad = tostring(status)
    end
  end
end

function done(summary, latency, requests)
  local bad_total = 0
  local first = ""
  for _, t in ipairs(threads) do
    bad_total = bad_total + t:get("bad")
    if first == "" then
      first = t:get("first_bad")
    end
  end
  local e = summary.errors
  io.write(string.format(
    "WRK-RESULT requests=%d duration_us=%d bytes=%d bad=%d first_bad=%s " ..
    "connect=%d read=%d write=%d status=%d timeout=%d p50_us=%d p99_us=%d\n",
    summary.requests, summary.duration, summary.bytes, bad_total,
    first == "" and "-" or first, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
