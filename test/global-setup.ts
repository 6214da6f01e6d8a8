// Shared fixtures for the whole suite are prepared here (Python venvs, MLflow server).
export default async function setup(): Promise<void> {}
