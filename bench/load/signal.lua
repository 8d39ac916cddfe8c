-- wrk script for `make bench`: POST /api/buyers/signal, a durable demand signal of the buyer
-- that scripts/bench.sh registered (BENCH_BUYER), authenticated with BENCH_KEY. Every request
-- is a new row, acknowledged (201) only once the commit holding it succeeded.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_KEY")
wrk.body = '{"buyer_id":"' .. os.getenv("BENCH_BUYER") ..
    '","text":"kahve istiyorum","product":"kahve","category":"coffee","budget":150}'
