// The environment variable that marks a fleet's worker process (fleet/pool.ts forks the CLI with
// it set; main.ts then serves pairs over IPC): its own file, so the CLI's start-up reads it without
// loading the fleet's code.

export const WORKER_ENV = 'VCPU_LENS_FLEET_WORKER';
