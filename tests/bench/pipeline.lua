-- wrk script: each connection sends N requests at a time (HTTP/1.1 pipelining), N from
-- the first script argument (wrk ... -s pipeline.lua URL -- N). One write carries N
-- requests and one read usually N answers, so the load generator spends a fraction of
-- its usual CPU per request and leaves the cores to the server being measured.
init = function(args)
  local n = tonumber(args[1]) or 16
  local batch = {}
  for i = 1, n do
    batch[i] = wrk.format(nil, nil)
  end
  requests = table.concat(batch)
end

request = function()
  return requests
end
