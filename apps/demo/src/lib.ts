/**
 * The demo's engine as a library, for other front ends (the browser playground): a booted vm with its event
 * recorder and narration ({@link Session}), the scenario and trace replay as generators that stop between steps,
 * the trace parser, and the frame-map model the report draws. Uses no Node-only API.
 *
 * @packageDocumentation
 */
export { ARCHES, ARCH_NAMES } from './arches.js';
export { addr, bytes, parseSize } from './format.js';
export { frameMapModel } from './frame-map.js';
export type { FrameKind, FrameMapModel, FrameRow } from './frame-map.js';
export { narrate } from './narrate.js';
export { MARKER_MEANINGS, markerCounts } from './page-map.js';
export { Recorder } from './recorder.js';
export type { FrameOwner } from './recorder.js';
export { ReplayError, replayTrace, traceSteps } from './replay.js';
export { runScenario, scenarioSteps } from './scenario.js';
export { Session, attempt, mpuSlots } from './session.js';
export type { MpuSlot, ReplayCursor, SessionOptions, Snapshot, StepInput } from './session.js';
export type { Figure, Step } from './step.js';
export { TraceError, TraceErrors, parseTrace } from './trace.js';
export type { Amount, Data, Expectation, Trace, TraceOp } from './trace.js';
