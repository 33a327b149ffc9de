-- wrk script: a stream of distinct, correctly signed plain-mode text messages.
-- Plain-mode signatures cover token, timestamp and nonce only, so one signed query serves every body;
-- each body gets its own MsgId so no request is answered from the retry cache.
local counter = 0
local thread_id = 0
local threads = {}

function setup(thread)
  thread:set("id", thread_id)
  thread_id = thread_id + 1
  table.insert(threads, thread)
end

function init(args)
  query = args[1]
  content = args[2]
  openids = tonumber(args[3])
end

function request()
  counter = counter + 1
  local openid = "bench-" .. ((counter + id * 7919) % openids)
  local body = "<xml><ToUserName><![CDATA[gh_bench]]></ToUserName><FromUserName><![CDATA[" .. openid ..
    "]]></FromUserName><CreateTime>" .. os.time() .. "</CreateTime><MsgType><![CDATA[text]]></MsgType>" ..
    "<Content><![CDATA[" .. content .. "]]></Content><MsgId>" .. (id * 1000000000 + counter) ..
    "</MsgId></xml>"
  return wrk.format("POST", "/wechat?" .. query, {["Content-Type"] = "text/xml"}, body)
end

function response(status, headers, body)
  if status ~= 200 then
    io.stderr:write("status " .. status .. "\n")
  end
end
