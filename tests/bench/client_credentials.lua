-- wrk script: OAuth 2.0 client_credentials token requests.
--
-- Each request is POST <TOKEN_PATH> with a form-encoded body
--   grant_type=client_credentials&scope=<SCOPE>
-- and HTTP Basic client authentication (client_secret_basic). Every response whose status
-- is not 200 is counted (see form_post.lua for the counters and the BENCH_RESULT line).
--
-- Environment (read with os.getenv):
--   CLIENT_ID      client id              (default "bench")
--   CLIENT_SECRET  client secret          (default "bench-secret")
--   TOKEN_PATH     token endpoint path    (default "/token")
--   SCOPE          requested scope        (default "api.read"; empty = omit)

local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local post = dofile(here .. "form_post.lua")

local scope = os.getenv("SCOPE")
if scope == nil then
  scope = "api.read"
end
local body = "grant_type=client_credentials"
if scope ~= "" then
  body = body .. "&scope=" .. post.form_encode(scope)
end

post.install({
  label = "client_credentials",
  path = post.getenv("TOKEN_PATH", "/token"),
  body = body,
  user = post.getenv("CLIENT_ID", "bench"),
  secret = post.getenv("CLIENT_SECRET", "bench-secret"),
  is_good = function(status, _)
    return status == 200
  end,
})
