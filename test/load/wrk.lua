-- wrk script of test/load/run.sh: sends GET with Accept and, when TOKEN is
-- set, a bearer token; stops each thread after its share of MAX_REQUESTS
-- (WRK_THREADS threads), so a run is bounded in count as well as time; and
-- prints one RESULT line (the same as test/load/loadgen).
local token = os.getenv("TOKEN") or ""
local threads = tonumber(os.getenv("WRK_THREADS") or "1")
local limit = math.ceil(tonumber(os.getenv("MAX_REQUESTS") or "100000") / threads)
local sent = 0
local req

function init(args)
  wrk.headers["Accept"] = "application/fhir+json"
  if token ~= "" then
    wrk.headers["Authorization"] = "Bearer " .. token
  end
  req = wrk.format()
end

function request()
  sent = sent + 1
  if sent > limit then
    wrk.thread:stop()
  end
  return req
end

function done(summary, latency, requests)
  local e = summary.errors
  local secs = summary.duration / 1e6
  io.write(string.format(
    "RESULT requests=%d duration_s=%.3f rps=%.2f p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f max_ms=%.3f non2xx=%d errors=%d bytes=%d\n",
    summary.requests, secs, summary.requests / secs,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, e.status, e.connect + e.read + e.write + e.timeout, summary.bytes))
end
