// The user-assigned identity the function app runs as: storage, monitoring and (optionally) the
// Durable Task Scheduler are reached with it, never with keys.
param name string
param location string
param tags object

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: name
  location: location
  tags: tags
}

output id string = identity.id
output clientId string = identity.properties.clientId
output principalId string = identity.properties.principalId
