-- wrk script: RFC 7662 introspection of one reference token by an API.
--
-- Each request is POST <INTROSPECT_PATH> with body token=<TOKEN> and HTTP Basic
-- authentication as the API (resource id and introspection secret). A response counts as
-- good only when it is 200 and says "active":true (see form_post.lua for the counters).
--
-- Environment: TOKEN (required), API_ID, API_SECRET, INTROSPECT_PATH
-- (default /connect/introspect).

local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local post = dofile(here .. "form_post.lua")

post.install({
  label = "introspection",
  path = post.getenv("INTROSPECT_PATH", "/connect/introspect"),
  body = "token=" .. post.form_encode(post.getenv("TOKEN", "")) .. "&token_type_hint=access_token",
  user = post.getenv("API_ID", "https://api.bench.example"),
  secret = post.getenv("API_SECRET", "bench-api-secret"),
  is_good = function(status, body)
    return status == 200 and string.find(body, '"active":true', 1, true) ~= nil
  end,
})
