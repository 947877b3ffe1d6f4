// The CLI's version, once: `vcpu-lens --version` prints it and the fleet tables record it.

export const TOOL_VERSION = '0.1.0';
