-- wrk script: RFC 7662 introspection of one reference token by an API.
--
-- Each request is POST <INTROSPECT_PATH> with body token=<TOKEN> and HTTP Basic
-- authentication as the API (resource id and introspection secret). A response
-- counts as good only when it is 200 and says "active":true.
--
-- Environment: TOKEN (required), API_ID, API_SECRET, INTROSPECT_PATH
-- (default /connect/introspect). Counters are globals (see client_credentials.lua).

local function getenv(name, default)
  local v = os.getenv(name)
  if v == nil or v == "" then
    return default
  end
  return v
end

local b64chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

local function base64(s)
  local out = {}
  for i = 1, #s, 3 do
    local a, b, c = s:byte(i, i + 2)
    local n = a * 65536 + (b or 0) * 256 + (c or 0)
    out[#out + 1] = b64chars:sub(math.floor(n / 262144) % 64 + 1, math.floor(n / 262144) % 64 + 1)
    out[#out + 1] = b64chars:sub(math.floor(n / 4096) % 64 + 1, math.floor(n / 4096) % 64 + 1)
    out[#out + 1] = b ~= nil and b64chars:sub(math.floor(n / 64) % 64 + 1, math.floor(n / 64) % 64 + 1) or "="
    out[#out + 1] = c ~= nil and b64chars:sub(n % 64 + 1, n % 64 + 1) or "="
  end
  return table.concat(out)
end

local function form_encode(s)
  return (s:gsub("[^%w%-%._~]", function(ch)
    return string.format("%%%02X", ch:byte())
  end))
end

local token = getenv("TOKEN", "")
local api_id = getenv("API_ID", "https://api.bench.example")
local api_secret = getenv("API_SECRET", "bench-api-secret")

wrk.method = "POST"
wrk.path = getenv("INTROSPECT_PATH", "/connect/introspect")
wrk.body = "token=" .. form_encode(token) .. "&token_type_hint=access_token"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = "Basic " .. base64(form_encode(api_id) .. ":" .. form_encode(api_secret))

local prepared = nil
function request()
  if prepared == nil then
    prepared = wrk.format()
  end
  return prepared
end

responses = 0
non200 = 0
first_error = ""

function response(status, headers, resp_body)
  responses = responses + 1
  if status ~= 200 or not string.find(resp_body or "", '"active":true', 1, true) then
    non200 = non200 + 1
    if first_error == "" then
      first_error = tostring(status) .. " " .. string.sub(resp_body or "", 1, 200):gsub("%s+", " ")
    end
  end
end

local threads = {}

function setup(thread)
  threads[#threads + 1] = thread
end

function done(summary, latency, requests)
  local total, bad, first = 0, 0, ""
  for _, thread in ipairs(threads) do
    total = total + (thread:get("responses") or 0)
    bad = bad + (thread:get("non200") or 0)
    local fe = thread:get("first_error") or ""
    if first == "" and fe ~= "" then
      first = fe
    end
  end
  local e = summary.errors
  io.write(string.format("BENCH_RESULT responses=%d non200=%d statuses=- errors=%d first_error=%s\n",
    total, bad, e.connect + e.read + e.write + e.timeout, first == "" and "-" or first))
end
