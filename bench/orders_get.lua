-- wrk script: GET /v1/orders/{id} with the buyer token, cycling over the orders in the file named
-- by BENCH_ORDERS (lines "order_id buyer_token card_key_id", written by loadgen). Each wrk thread
-- starts at a different place in the list.
--
-- The requests are built once, in init(), as wrk's SCRIPTING advises: building one in request()
-- for every call costs wrk about a fifth of the reads it can send, CPU that the server under test
-- shares on this machine, while the bare ceiling is measured with no script at all.
local orders = {}
for line in io.lines(os.getenv("BENCH_ORDERS")) do
  local o, t = line:match("^(%S+)%s+(%S+)")
  if o then orders[#orders + 1] = { o, t } end
end
assert(#orders > 0, "no orders in " .. tostring(os.getenv("BENCH_ORDERS")))

local n = 0
function setup(thread)
  n = n + 1
  thread:set("tid", n)
end

local requests, i
function init(args)
  requests = {}
  for k, o in ipairs(orders) do
    requests[k] = wrk.format("GET", "/v1/orders/" .. o[1], { ["Authorization"] = "Bearer " .. o[2] })
  end
  i = ((tid or 1) * 7919) % #requests
end

function request()
  i = i % #requests + 1
  return requests[i]
end
