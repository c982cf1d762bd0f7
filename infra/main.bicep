// `azd up` entry point: one resource group with the app, its identity, keyless storage,
// monitoring and (with durableBackend = 'DurableTaskScheduler') a Durable Task Scheduler.
targetScope = 'subscription'

@minLength(1)
@maxLength(40)
@description('azd environment name; names and the task hub derive from it.')
param environmentName string

@description('Region for every resource.')
param location string

@description('The deploying user, given the same data roles to run and inspect the app (optional).')
param principalId string = ''

@allowed(['AzureStorage', 'DurableTaskScheduler'])
@description('Where Durable Functions keeps orchestration state.')
param durableBackend string = 'AzureStorage'

var token = toLower(uniqueString(subscription().id, environmentName, location))
var tags = { 'azd-env-name': environmentName }
var taskHubName = take('CustomStatus${replace(replace(environmentName, '-', ''), '_', '')}', 45)
var statusContainer = 'custom-status'
var deploymentContainer = 'app-package-${take(token, 8)}'

resource rg 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: 'rg-${environmentName}'
  location: location
  tags: tags
}

module identity 'modules/identity.bicep' = {
  name: 'identity'
  scope: rg
  params: {
    name: 'id-${token}'
    location: location
    tags: tags
  }
}

module storage 'modules/storage.bicep' = {
  name: 'storage'
  scope: rg
  params: {
    name: 'st${token}'
    location: location
    tags: tags
    deploymentContainer: deploymentContainer
    statusContainer: statusContainer
  }
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  scope: rg
  params: {
    logAnalyticsName: 'log-${token}'
    appInsightsName: 'appi-${token}'
    location: location
    tags: tags
  }
}

module appRoles 'modules/roles.bicep' = {
  name: 'app-roles'
  scope: rg
  params: {
    principalId: identity.outputs.principalId
    principalType: 'ServicePrincipal'
    storageName: storage.outputs.name
    appInsightsName: 'appi-${token}'
  }
}

module userRoles 'modules/roles.bicep' = if (!empty(principalId)) {
  name: 'user-roles'
  scope: rg
  params: {
    principalId: principalId
    principalType: 'User'
    storageName: storage.outputs.name
    appInsightsName: 'appi-${token}'
  }
}

module scheduler 'modules/durable-task-scheduler.bicep' = if (durableBackend == 'DurableTaskScheduler') {
  name: 'scheduler'
  scope: rg
  params: {
    name: 'dts-${token}'
    location: location
    tags: tags
    taskHubName: taskHubName
    principalId: identity.outputs.principalId
  }
}

var appSettings = [
  { name: 'TASKHUB_NAME', value: taskHubName }
  { name: 'STATUS_BLOB_CONTAINER', value: statusContainer }
]

// With the scheduler, host.json's storage provider is switched by app settings (the host reads
// AzureFunctionsJobHost__* over host.json); the connection uses the same identity.
var schedulerSettings = durableBackend == 'DurableTaskScheduler' ? [
  { name: 'AzureFunctionsJobHost__extensions__durableTask__storageProvider__type', value: 'azureManaged' }
  { name: 'AzureFunctionsJobHost__extensions__durableTask__storageProvider__connectionStringName', value: 'DURABLE_TASK_SCHEDULER_CONNECTION_STRING' }
  { name: 'DURABLE_TASK_SCHEDULER_CONNECTION_STRING', value: 'Endpoint=${scheduler.outputs.endpoint};Authentication=ManagedIdentity;ClientID=${identity.outputs.clientId}' }
] : []

module app 'modules/functionapp.bicep' = {
  name: 'app'
  scope: rg
  params: {
    name: 'func-${token}'
    planName: 'plan-${token}'
    location: location
    tags: tags
    identityId: identity.outputs.id
    identityClientId: identity.outputs.clientId
    storageBlobEndpoint: storage.outputs.blobEndpoint
    storageQueueEndpoint: storage.outputs.queueEndpoint
    storageTableEndpoint: storage.outputs.tableEndpoint
    deploymentContainer: deploymentContainer
    appInsightsConnectionString: monitoring.outputs.connectionString
    appSettings: concat(appSettings, schedulerSettings)
  }
}

output AZURE_FUNCTION_APP_NAME string = app.outputs.name
output AZURE_FUNCTION_APP_URL string = 'https://${app.outputs.defaultHostName}'
output AZURE_RESOURCE_GROUP string = rg.name
