-- Shared by the wrk scripts: one fixed form POST with HTTP Basic authentication, per-thread
-- counters of bad responses, and a summary line for the benchmark scripts.
--
-- A script loads it with dofile and calls install(); see client_credentials.lua.
-- wrk runs one Lua state per thread and done() runs in yet another, so the counters are
-- GLOBALS: a `local` would be invisible to thread:get() and would read 0 in done().
-- done() prints a human line and one machine-readable line:
--   BENCH_RESULT responses=<n> non200=<n> statuses=<code>:<n>,... errors=<n> first_error=<code> <body...>

local M = {}

-- An environment variable, or `default` when unset or empty.
function M.getenv(name, default)
  local v = os.getenv(name)
  if v == nil or v == "" then
    return default
  end
  return v
end

local b64chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

function M.base64(s)
  local out = {}
  for i = 1, #s, 3 do
    local a, b, c = s:byte(i, i + 2)
    local n = a * 65536 + (b or 0) * 256 + (c or 0)
    local c1 = math.floor(n / 262144) % 64
    local c2 = math.floor(n / 4096) % 64
    local c3 = math.floor(n / 64) % 64
    local c4 = n % 64
    out[#out + 1] = b64chars:sub(c1 + 1, c1 + 1)
    out[#out + 1] = b64chars:sub(c2 + 1, c2 + 1)
    out[#out + 1] = b ~= nil and b64chars:sub(c3 + 1, c3 + 1) or "="
    out[#out + 1] = c ~= nil and b64chars:sub(c4 + 1, c4 + 1) or "="
  end
  return table.concat(out)
end

-- RFC 6749 section 2.3.1: id and secret are form-urlencoded before Basic; form values too.
function M.form_encode(s)
  return (s:gsub("[^%w%-%._~]", function(ch)
    return string.format("%%%02X", ch:byte())
  end))
end

-- Sets up wrk to POST `body` to `path` as `user`:`secret`. A response is good when
-- `is_good(status, body)` says so. `label` names the run in the human line.
function M.install(o)
  wrk.method = "POST"
  wrk.path = o.path
  wrk.body = o.body
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
  wrk.headers["Accept"] = "application/json"
  wrk.headers["Authorization"] = "Basic " .. M.base64(M.form_encode(o.user) .. ":" .. M.form_encode(o.secret))

  -- The request never changes: format it once per thread.
  local prepared = nil
  function request()
    if prepared == nil then
      prepared = wrk.format()
    end
    return prepared
  end

  responses = 0
  non200 = 0
  statuses = {}
  first_error = ""

  function response(status, headers, resp_body)
    responses = responses + 1
    if not o.is_good(status, resp_body or "") then
      non200 = non200 + 1
      local key = tostring(status)
      statuses[key] = (statuses[key] or 0) + 1
      if first_error == "" then
        first_error = key .. " " .. string.sub(resp_body or "", 1, 200):gsub("%s+", " ")
      end
    end
  end

  -- Main state: keep every thread so done() can collect its counters.
  local threads = {}

  function setup(thread)
    threads[#threads + 1] = thread
  end

  function done(summary, latency, requests)
    local total_responses, total_non200 = 0, 0
    local by_status = {}
    local first = ""
    for _, thread in ipairs(threads) do
      total_responses = total_responses + (thread:get("responses") or 0)
      total_non200 = total_non200 + (thread:get("non200") or 0)
      local st = thread:get("statuses") or {}
      for code, n in pairs(st) do
        by_status[code] = (by_status[code] or 0) + n
      end
      local fe = thread:get("first_error") or ""
      if first == "" and fe ~= "" then
        first = fe
      end
    end
    local parts = {}
    for code, n in pairs(by_status) do
      parts[#parts + 1] = code .. ":" .. n
    end
    table.sort(parts)
    local statuses_text = table.concat(parts, ",")
    local e = summary.errors
    io.write(string.format(
      "%s: %d responses, %d bad %s; socket errors connect=%d read=%d write=%d timeout=%d\n",
      o.label, total_responses, total_non200, statuses_text == "" and "" or ("(" .. statuses_text .. ")"),
      e.connect, e.read, e.write, e.timeout))
    io.write(string.format("BENCH_RESULT responses=%d non200=%d statuses=%s errors=%d first_error=%s\n",
      total_responses, total_non200, statuses_text == "" and "-" or statuses_text,
      e.connect + e.read + e.write + e.timeout, first == "" and "-" or first))
  end
end

return M
