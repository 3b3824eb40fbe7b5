-- The REST side of the gateway's errors, before and after the transcoder.
--
-- Requests: refuses REST request bodies that carry a JSON field the contract does not
-- define. Envoy's grpc_json_transcoder drops unknown JSON fields silently (it has options
-- for unknown query parameters, none for body fields). This runs before it, on REST writes.
-- The generator (services/pivotal_gateway/unknown_fields.py) prepends three tables:
--   MESSAGES[i]  a message: JSON field name (lowerCamelCase and proto name) -> true (a leaf:
--                scalar, enum, well-known type), MESSAGES[j] (a message), or {map = MESSAGES[j]}
--                (a map whose values are messages);
--   NAMES[MESSAGES[i]]  JSON field name -> proto field name (violations name proto paths);
--   BINDINGS     {verb, Lua pattern of the path, MESSAGES[i] of the body, path prefix of the
--                body in the request message ("invitation." for body: "invitation")}, most
--                specific first.
-- Keys are compared after JSON unescaping (`"\u0063olour"` is `colour`). Values are not
-- checked here: the transcoder refuses wrongly typed ones itself. A body that is not valid
-- JSON is left to the transcoder too, which answers 400 with its own message.
--
-- Field paths follow one rule in every layer (docs/gateway.md): proto field names, relative
-- to the request message, `[i]` for list elements: `invitation.role_id`, `page_size`.
--
-- Responses (errors only): a transcoder refusal naming a field (`page_size: invalid value
-- "abc" for type TYPE_INT32`, `Could not find field "colour" ...`) gets a BadRequest field
-- violation; an error with a google.rpc.RetryInfo gets a `Retry-After` header.

local function skip_space(text, i)
  return text:find("[^ \t\r\n]", i) or (#text + 1)
end

local function read_string(text, i)
  -- text:sub(i, i) is the opening quote; returns the raw content and the index after it.
  local j = i + 1
  while true do
    local byte = text:byte(j)
    if byte == nil then error("unterminated string") end
    if byte == 34 then return text:sub(i + 1, j - 1), j + 1 end
    if byte == 92 then j = j + 2 else j = j + 1 end
  end
end

local ESCAPES = {['"'] = '"', ["\\"] = "\\", ["/"] = "/", b = "\b", f = "\f", n = "\n",
                 r = "\r", t = "\t"}

local function utf8_char(code)
  if code < 0x80 then return string.char(code) end
  if code < 0x800 then
    return string.char(0xC0 + math.floor(code / 0x40), 0x80 + code % 0x40)
  end
  if code < 0x10000 then
    return string.char(0xE0 + math.floor(code / 0x1000), 0x80 + math.floor(code / 0x40) % 0x40,
                       0x80 + code % 0x40)
  end
  return string.char(0xF0 + math.floor(code / 0x40000), 0x80 + math.floor(code / 0x1000) % 0x40,
                     0x80 + math.floor(code / 0x40) % 0x40, 0x80 + code % 0x40)
end

-- The key as the JSON parser sees it (the transcoder unescapes before it looks a name up).
local function unescape(raw)
  if not raw:find("\\", 1, true) then return raw end
  local out, i = {}, 1
  while i <= #raw do
    local c = raw:sub(i, i)
    if c ~= "\\" then
      out[#out + 1], i = c, i + 1
    else
      local e = raw:sub(i + 1, i + 1)
      if e == "u" then
        local code = tonumber(raw:sub(i + 2, i + 5), 16)
        if code == nil then error("bad escape") end
        i = i + 6
        if code >= 0xD800 and code < 0xDC00 and raw:sub(i, i + 1) == "\\u" then
          local low = tonumber(raw:sub(i + 2, i + 5), 16)
          if low and low >= 0xDC00 and low < 0xE000 then
            code, i = 0x10000 + (code - 0xD800) * 0x400 + (low - 0xDC00), i + 6
          end
        end
        out[#out + 1] = utf8_char(code)
      elseif ESCAPES[e] then
        out[#out + 1], i = ESCAPES[e], i + 2
      else
        error("bad escape")
      end
    end
  end
  return table.concat(out)
end

local read_value

local function read_object(text, i, kind, path)
  local fields, values = nil, nil
  if type(kind) == "table" then
    if kind.map ~= nil then values = kind.map else fields = kind end
  end
  i = skip_space(text, i + 1)
  if text:sub(i, i) == "}" then return i + 1 end
  while true do
    i = skip_space(text, i)
    if text:sub(i, i) ~= '"' then error("expected a key") end
    local key
    key, i = read_string(text, i)
    key = unescape(key)
    i = skip_space(text, i)
    if text:sub(i, i) ~= ":" then error("expected a colon") end
    local child, name = values, key
    if fields ~= nil then
      child = fields[key]
      if child == nil then return nil, path .. key end
      name = NAMES[fields][key] or key
    end
    local unknown
    i, unknown = read_value(text, i + 1, child, path .. name .. ".")
    if unknown then return nil, unknown end
    i = skip_space(text, i)
    local separator = text:sub(i, i)
    if separator == "}" then return i + 1 end
    if separator ~= "," then error("expected a comma") end
    i = i + 1
  end
end

local function read_array(text, i, kind, path)
  i = skip_space(text, i + 1)
  if text:sub(i, i) == "]" then return i + 1 end
  local index = 0
  while true do
    local unknown
    i, unknown = read_value(text, i, kind, path:sub(1, -2) .. "[" .. index .. "].")
    if unknown then return nil, unknown end
    i = skip_space(text, i)
    local separator = text:sub(i, i)
    if separator == "]" then return i + 1 end
    if separator ~= "," then error("expected a comma") end
    i, index = i + 1, index + 1
  end
end

read_value = function(text, i, kind, path)
  i = skip_space(text, i)
  local first = text:sub(i, i)
  if first == "{" then return read_object(text, i, kind, path) end
  if first == "[" then return read_array(text, i, kind, path) end
  if first == '"' then
    local _, after = read_string(text, i)
    return after
  end
  if first == "" then error("unexpected end") end
  local stop = text:find("[,%]}%s]", i)
  return stop or (#text + 1)
end

local WRITES = {POST = true, PUT = true, PATCH = true, DELETE = true}

local function body_kind(verb, path)
  for _, binding in ipairs(BINDINGS) do
    if binding[1] == verb and path:find(binding[2]) then return binding[3], binding[4] end
  end
  return nil
end

local function json_string(value)
  return '"' .. value:gsub('[%c"\\]', function(c)
    return string.format("\\u%04x", c:byte())
  end) .. '"'
end

function envoy_on_request(handle)
  local headers = handle:headers()
  local verb = headers:get(":method")
  if not WRITES[verb] then return end
  local content_type = headers:get("content-type") or ""
  if content_type:find("application/grpc", 1, true) == 1 then return end
  local kind, prefix = body_kind(verb, (headers:get(":path") or ""):match("^[^?#]*"))
  if kind == nil then return end
  local body = handle:body()
  if body == nil or body:length() == 0 then return end
  local ok, result, unknown = pcall(read_value, body:getBytes(0, body:length()), 1, kind, prefix)
  if not ok then
    handle:logDebug("unknown-field check skipped (the transcoder judges): " .. tostring(result))
  elseif unknown then
    -- Marks the request so the gateway's local-reply mappers keep this JSON body as it is.
    -- (The headers object taken before handle:body() is no longer valid: take it again.)
    handle:headers():replace("x-pivotal-json-reply", "1")
    local field = json_string(unknown)
    handle:respond(
      {[":status"] = "400", ["content-type"] = "application/json", ["grpc-status"] = "3"},
      '{"code":3,"message":' .. json_string("unknown field " .. unknown .. " in the request body") ..
      ',"details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo",' ..
      '"reason":"INVALID_ARGUMENT","domain":"pivotal.gateway"},' ..
      '{"@type":"type.googleapis.com/google.rpc.BadRequest","fieldViolations":' ..
      '[{"field":' .. field .. ',"description":"no such field in the contract",' ..
      '"reason":"UNKNOWN_FIELD"}]}]}')
  end
end

-- The transcoder's own refusals name the field in their message; the field violation makes
-- them look like every other invalid argument.
local function refused_field(message)
  local field, problem = message:match("^([%a_][%w_%.%[%]]*): (.+)$")
  if field then return field, problem, "INVALID_FIELD" end
  field = message:match('^Could not find field "([^"]+)"')
  if field then return field, "no such field in the contract", "UNKNOWN_FIELD" end
  return nil
end

local function json_unescape_message(body)
  local raw = body:match('"message":"(.-[^\\])"') or body:match('"message":"()"')
  if type(raw) ~= "string" then return nil end
  local ok, text = pcall(unescape, raw)
  if ok then return text end
  return nil
end

local function with_field_violation(body)
  if not body:find('^{"code":3,') or body:find("google.rpc.BadRequest", 1, true) then
    return nil
  end
  local message = json_unescape_message(body)
  if message == nil then return nil end
  local field, problem, reason = refused_field(message)
  if field == nil then return nil end
  local violation = '{"@type":"type.googleapis.com/google.rpc.BadRequest","fieldViolations":' ..
    '[{"field":' .. json_string(field) .. ',"description":' .. json_string(problem) ..
    ',"reason":"' .. reason .. '"}]}'
  local before, after = body:match('^(.-"details":%[)(.*)$')
  if before == nil then return nil end
  return before .. violation .. "," .. after
end

function envoy_on_response(handle)
  local headers = handle:headers()
  local status = tonumber(headers:get(":status") or "0") or 0
  if status < 400 then return end
  if (headers:get("content-type") or ""):find("application/json", 1, true) ~= 1 then return end
  local body = handle:body()
  if body == nil or body:length() == 0 then return end
  local text = body:getBytes(0, body:length())
  local delay = text:match('"retryDelay":"(%d+)[%.%d]*s"')
  if delay then
    -- Whole seconds, rounded up: never earlier than the service asked.
    local seconds = tonumber(delay)
    if text:match('"retryDelay":"%d+%.%d*[1-9]%d*s"') then seconds = seconds + 1 end
    handle:headers():replace("retry-after", tostring(math.max(1, seconds)))
  end
  if status == 400 then
    local rewritten = with_field_violation(text)
    if rewritten then
      body:setBytes(rewritten)
      handle:headers():replace("content-length", tostring(#rewritten))
    end
  end
end
