-- Refuses REST request bodies that carry a JSON field the contract does not define.
--
-- Envoy's grpc_json_transcoder drops unknown JSON fields silently (it has options for unknown
-- query parameters, none for body fields). This script runs before it, on REST writes only.
-- The generator (services/pivotal_gateway/unknown_fields.py) prepends two tables:
--   MESSAGES[i]  a message: JSON field name (lowerCamelCase and proto name) -> true (a leaf:
--                scalar, enum, well-known type), MESSAGES[j] (a message), or {map = MESSAGES[j]}
--                (a map whose values are messages);
--   BINDINGS     {verb, Lua pattern of the path, MESSAGES[i] of the body}, most specific first.
-- Values are not checked here: the transcoder refuses wrongly typed ones itself. A body that
-- is not valid JSON is left to the transcoder too, which answers 400 with its own message.

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
    i = skip_space(text, i)
    if text:sub(i, i) ~= ":" then error("expected a colon") end
    local child = values
    if fields ~= nil then
      child = fields[key]
      -- A key written with escapes cannot be compared cheaply: the transcoder decides.
      if child == nil and not key:find("\\", 1, true) then
        return nil, path .. key
      end
    end
    local unknown
    i, unknown = read_value(text, i + 1, child, path .. key .. ".")
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
    if binding[1] == verb and path:find(binding[2]) then return binding[3] end
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
  local kind = body_kind(verb, (headers:get(":path") or ""):match("^[^?#]*"))
  if kind == nil then return end
  local body = handle:body()
  if body == nil or body:length() == 0 then return end
  local ok, result, unknown = pcall(read_value, body:getBytes(0, body:length()), 1, kind, "")
  if not ok then
    handle:logDebug("unknown-field check skipped (the transcoder judges): " .. tostring(result))
  elseif unknown then
    -- Marks the request so the gateway's local-reply mappers keep this JSON body as it is.
    -- (The headers object taken before handle:body() is no longer valid: take it again.)
    handle:headers():replace("x-pivotal-json-reply", "1")
    local field = json_string(unknown)
    handle:respond(
      {[":status"] = "400", ["content-type"] = "application/json"},
      '{"code":3,"message":' .. json_string("unknown field " .. unknown .. " in the request body") ..
      ',"details":[{"@type":"type.googleapis.com/google.rpc.BadRequest","fieldViolations":' ..
      '[{"field":' .. field .. ',"description":"no such field in the contract",' ..
      '"reason":"UNKNOWN_FIELD"}]}]}')
  end
end
