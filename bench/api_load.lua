-- wrk script of bench/api_load.py: a mixed staff/supervisor workload with a token and ids per request.
--
--   wrk -t2 -c16 -d20s -s bench/api_load.lua http://127.0.0.1:18480 -- <data.lua>
--
-- <data.lua> (written by bench/api_load.py) returns a table:
--   { weights = { plan_get = 30, ... }, cycle = 1, date = "2026-12-06",
--     employees = { { nip = "...", token = "...", plan = 12, iki = { "uuid", ... } }, ... },
--     supervisors = { { nip = "...", token = "...", evals = { 7, 9 } }, ... } }
--
-- Each wrk thread takes its own share of the people (index modulo the number of threads) and walks it
-- round robin, so no two requests in flight write the same row (a realisation is one row per IKI and
-- period). The kind of each request is drawn by weight. Every answer's status is counted; the bodies
-- of the first answers that are not 2xx are kept; done() prints one line "WRK_JSON {...}" with the
-- counts, the latency percentiles (microseconds) and the samples, which bench/api_load.py reads.

local KINDS = { "plan_get", "log_post", "realisation_post", "team_logs", "team_plans", "evaluation_get" }
local threads = {}
local counter = 0

function setup(thread)
   counter = counter + 1
   thread:set("thread_index", counter)
   table.insert(threads, thread)
end

local data, mine_e, mine_s, cumulative, total_weight
local next_e, next_s = 0, 0
statuses, sent, samples, nsamples = {}, {}, {}, 0

local function share(list, index, count)
   local out = {}
   for i, item in ipairs(list) do
      if (i - 1) % count == index - 1 then
         table.insert(out, item)
      end
   end
   if #out == 0 then
      out = list -- fewer people than threads: share them
   end
   return out
end

function init(args)
   data = dofile(args[1])
   local count = tonumber(args[2]) or 1
   mine_e = share(data.employees, thread_index, count)
   mine_s = share(data.supervisors, thread_index, count)
   cumulative, total_weight = {}, 0
   for _, kind in ipairs(KINDS) do
      total_weight = total_weight + (data.weights[kind] or 0)
      table.insert(cumulative, { kind, total_weight })
      sent[kind] = 0
   end
   math.randomseed(os.time() * 1000 + thread_index)
end

local function pick_kind()
   local r = math.random() * total_weight
   for _, entry in ipairs(cumulative) do
      if r < entry[2] then
         return entry[1]
      end
   end
   return cumulative[#cumulative][1]
end

local function employee()
   next_e = next_e % #mine_e + 1
   return mine_e[next_e]
end

local function supervisor()
   next_s = next_s % #mine_s + 1
   return mine_s[next_s]
end

local function headers(person, with_body)
   local h = { ["Authorization"] = "Bearer " .. person.token, ["X-Bench-Nip"] = person.nip }
   if with_body then
      h["Content-Type"] = "application/json"
   end
   return h
end

local P = "/plans/api/v1"

function request()
   local kind = pick_kind()
   sent[kind] = sent[kind] + 1
   if kind == "plan_get" then
      local e = employee()
      return wrk.format("GET", P .. "/plans/" .. e.plan, headers(e))
   elseif kind == "log_post" then
      local e = employee()
      local n = sent[kind]
      local body = string.format(
         '{"date": "%s", "minutes": %d, "activity": "Menyusun bahan rapat koordinasi dan notula kegiatan nomor %d", "iki_id": "%s"}',
         data.date, 15 + (n % 8) * 15, n, e.iki[n % #e.iki + 1])
      return wrk.format("POST", P .. "/daily-logs", headers(e, true), body)
   elseif kind == "realisation_post" then
      local e = employee()
      local n = sent[kind]
      local body = string.format('{"iki_id": "%s", "period_seq": 1, "value": %d}', e.iki[n % #e.iki + 1], n % 100 + 1)
      return wrk.format("POST", P .. "/plans/" .. e.plan .. "/realisations", headers(e, true), body)
   elseif kind == "team_logs" then
      local s = supervisor()
      return wrk.format("GET", P .. "/daily-logs?team=true&limit=50", headers(s))
   elseif kind == "team_plans" then
      local s = supervisor()
      return wrk.format("GET", P .. "/plans?cycle_id=" .. data.cycle .. "&penilai_nip=" .. s.nip .. "&limit=50", headers(s))
   else
      local s = supervisor()
      local ev = s.evals[math.random(#s.evals)]
      return wrk.format("GET", "/reviews/api/v1/evaluations/" .. ev, headers(s))
   end
end

function response(status, _, body)
   statuses[status] = (statuses[status] or 0) + 1
   if (status < 200 or status > 299) and nsamples < 5 then
      nsamples = nsamples + 1
      samples[nsamples] = status .. " " .. string.sub(body or "", 1, 400)
   end
end

-- a small JSON encoder: numbers, strings, and tables of them (arrays when keyed 1..n)
local function encode(value)
   local t = type(value)
   if t == "number" then
      return string.format("%.17g", value)
   elseif t == "string" then
      return '"' .. value:gsub('[%c"\\]', function(c)
         return string.format("\\u%04x", c:byte())
      end) .. '"'
   elseif t == "table" then
      local parts = {}
      if #value > 0 then
         for _, v in ipairs(value) do
            table.insert(parts, encode(v))
         end
         return "[" .. table.concat(parts, ",") .. "]"
      end
      for k, v in pairs(value) do
         table.insert(parts, encode(tostring(k)) .. ":" .. encode(v))
      end
      return "{" .. table.concat(parts, ",") .. "}"
   end
   return "null"
end

function done(summary, latency, _)
   local all_status, all_sent, all_samples = {}, {}, {}
   for _, thread in ipairs(threads) do
      for status, n in pairs(thread:get("statuses") or {}) do
         all_status[tostring(status)] = (all_status[tostring(status)] or 0) + n
      end
      for kind, n in pairs(thread:get("sent") or {}) do
         all_sent[kind] = (all_sent[kind] or 0) + n
      end
      for _, s in ipairs(thread:get("samples") or {}) do
         table.insert(all_samples, s)
      end
   end
   local out = {
      requests = summary.requests,
      duration_us = summary.duration,
      bytes = summary.bytes,
      errors = summary.errors,
      statuses = all_status,
      sent = all_sent,
      samples = all_samples,
      latency_us = {
         mean = latency.mean,
         max = latency.max,
         p50 = latency:percentile(50),
         p90 = latency:percentile(90),
         p95 = latency:percentile(95),
         p99 = latency:percentile(99),
      },
   }
   io.write("WRK_JSON " .. encode(out) .. "\n")
end
