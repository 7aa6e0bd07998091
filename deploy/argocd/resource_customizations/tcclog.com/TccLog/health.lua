-- Argo CD health check for tcclog.com/TccLog.
-- The operator reports metav1.Condition-shaped Ready, Progressing and Degraded conditions
-- and status.observedGeneration; a status older than the spec says nothing yet.
local hs = {}

if obj.status == nil or obj.status.conditions == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to report status"
  return hs
end

local generation = obj.metadata.generation
local observed = obj.status.observedGeneration
if generation ~= nil and (observed == nil or observed < generation) then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to observe generation " .. generation
  return hs
end

local conditions = {}
for _, condition in ipairs(obj.status.conditions) do
  local stale = generation ~= nil and condition.observedGeneration ~= nil
    and condition.observedGeneration < generation
  if not stale then
    conditions[condition.type] = condition
  end
end

local function message(condition, fallback)
  if condition ~= nil and condition.message ~= nil and condition.message ~= "" then
    return condition.message
  end
  return fallback
end

local ready, progressing, degraded = conditions["Ready"], conditions["Progressing"], conditions["Degraded"]
if degraded ~= nil and degraded.status == "True" then
  hs.status = "Degraded"
  hs.message = message(degraded, "Degraded")
elseif ready ~= nil and ready.status == "True" then
  hs.status = "Healthy"
  hs.message = message(ready, "Ready")
elseif progressing ~= nil and progressing.status == "True" then
  hs.status = "Progressing"
  hs.message = message(progressing, "Reconciling")
else
  hs.status = "Progressing"
  hs.message = message(ready, "Waiting for the Ready condition")
end
return hs
