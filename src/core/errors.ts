// Typed errors: commands throw these, only the CLI entry point turns them into exit codes.
// Exit codes follow BSD sysexits so that Airflow task logs and shell scripts can tell a bad
// flag (retrying is pointless) from a tracking server that is down (retrying may help).

export const EXIT_CODES = {
  OK: 0,
  FAILURE: 1,
  USAGE: 64,
  DATA: 65,
  UNAVAILABLE: 69,
  SOFTWARE: 70,
  /** EX_TEMPFAIL: another attempt owns the run right now; retrying later can succeed. */
  TEMPORARY: 75,
  CONFIG: 78,
  /** 128 + SIGINT: what a shell reports for Ctrl-C. */
  INTERRUPTED: 130,
  /** 128 + SIGTERM: what Kubernetes and Airflow expect from a pod stopped with SIGTERM. */
  TERMINATED: 143,
} as const;

export type ExitCode = (typeof EXIT_CODES)[keyof typeof EXIT_CODES];

export class PodtrainError extends Error {
  readonly exitCode: ExitCode;
  constructor(message: string, exitCode: ExitCode = EXIT_CODES.FAILURE, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.exitCode = exitCode;
  }
}

/** A flag or argument that cannot work; fixing the command line fixes it. */
export class UsageError extends PodtrainError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, EXIT_CODES.USAGE, options);
  }
}

/** A workflow spec (models/*.yaml) or deployment config that does not validate. */
export class SpecError extends PodtrainError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, EXIT_CODES.CONFIG, options);
  }
}

/** Input data that is missing, truncated or not in the format it claims to be. */
export class DataError extends PodtrainError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, EXIT_CODES.DATA, options);
  }
}

/** A service or native component that is not reachable or not installed. */
export class UnavailableError extends PodtrainError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, EXIT_CODES.UNAVAILABLE, options);
  }
}

/**
 * Another attempt (a zombie pod, a racing retry) owns the run for this run key, or won the race
 * to create it. Exit 75 tells Airflow the failure is temporary: a later retry finds the run
 * finished, or its owner's lease expired, and continues it.
 */
export class RunOwnedError extends PodtrainError {
  constructor(message: string) {
    super(message, EXIT_CODES.TEMPORARY);
  }
}

/** The run was stopped by SIGINT/SIGTERM (Airflow and Kubernetes stop pods with SIGTERM). */
export class InterruptedError extends PodtrainError {
  readonly signal: string;
  constructor(signal: string) {
    // 128 + the signal number, as a shell reports a process killed by it.
    super(`interrupted by ${signal}`, signal === "SIGTERM" ? EXIT_CODES.TERMINATED : EXIT_CODES.INTERRUPTED);
    this.signal = signal;
  }
}

/**
 * The trained model could not be written as ONNX, or onnxruntime's predictions differ from the
 * model's own: a defect in the exporter (exit 70), never registered as a servable model.
 */
export class ModelExportError extends PodtrainError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, EXIT_CODES.SOFTWARE, options);
  }
}

export function exitCodeOf(error: unknown): ExitCode {
  return error instanceof PodtrainError ? error.exitCode : EXIT_CODES.SOFTWARE;
}
