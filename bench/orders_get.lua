-- wrk script: GET /v1/orders/{id} with the buyer token, cycling over the orders in the file named
-- by BENCH_ORDERS (lines "order_id buyer_token card_key_id", written by loadgen). Each wrk thread
-- starts at a different place in the list.
local items = {}
for line in io.lines(os.getenv("BENCH_ORDERS")) do
  local o, t = line:match("^(%S+)%s+(%S+)")
  if o then items[#items + 1] = { "/v1/orders/" .. o, { ["Authorization"] = "Bearer " .. t } } end
end
assert(#items > 0, "no orders in " .. tostring(os.getenv("BENCH_ORDERS")))

local n = 0
function setup(thread)
  n = n + 1
  thread:set("tid", n)
end

local i
function init(args)
  i = ((tid or 1) * 7919) % #items
end

function request()
  i = i % #items + 1
  local it = items[i]
  return wrk.format("GET", it[1], it[2])
end
