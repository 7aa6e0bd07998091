-- Argo CD health of a TccLogBackup (one on-demand backup): its phase, as the operator
-- reports it from the backup Job. Succeeded and Failed are final.
local hs = {}
if obj.status == nil or obj.status.phase == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to start the backup"
  return hs
end
local phase = obj.status.phase
local message = obj.status.message or ""
if phase == "Succeeded" then
  hs.status = "Healthy"
  if obj.status.location ~= nil then
    message = message .. " (" .. obj.status.location .. ")"
  end
elseif phase == "Failed" then
  hs.status = "Degraded"
else
  hs.status = "Progressing"
end
hs.message = phase .. ": " .. message
return hs
