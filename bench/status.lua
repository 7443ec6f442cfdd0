-- wrk script: count responses by HTTP status, so a 3xx is caught too (wrk's own
-- "Non-2xx or 3xx" line only counts 4xx and 5xx). Prints "status <code>: <count>".
counts = {}
threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function response(status, headers, body)
  counts[status] = (counts[status] or 0) + 1
end

function done(summary, latency, requests)
  local total = {}
  for _, thread in ipairs(threads) do
    for code, n in pairs(thread:get("counts")) do
      total[code] = (total[code] or 0) + n
    end
  end
  for code, n in pairs(total) do
    io.write(string.format("status %d: %d\n", code, n))
  end
end
