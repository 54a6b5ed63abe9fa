/**
 * The envelopes that carry the contract over any transport (Electron IPC or
 * the dashboard's WebSocket): calls with results, and streams that are opened,
 * fed with input, and closed by either side. Ids are chosen by the client.
 */
import { z } from 'zod';

/** The one IPC channel the preload and main use; the message kind says the rest. */
export const IPC_CHANNEL = 'berth:rpc';
/** The name of the preload's API on window. */
export const PRELOAD_GLOBAL = 'berth';
/** Largest message either side accepts (bytes of JSON). Archive chunks and exec input stay well below. */
export const MAX_MESSAGE_BYTES = 8 * 1024 * 1024;

const msgId = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

export const ClientMessageSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('call'), id: msgId, method: z.string().max(100), params: z.unknown() }),
  z.strictObject({ kind: z.literal('open'), id: msgId, stream: z.string().max(100), params: z.unknown() }),
  z.strictObject({ kind: z.literal('input'), id: msgId, input: z.unknown() }),
  z.strictObject({ kind: z.literal('close'), id: msgId }),
]);
export type ClientMessage = z.infer<typeof ClientMessageSchema>;

export const WireErrorSchema = z.object({
  message: z.string(),
  /** HTTP status from the engine (404 no such container, 409 conflict, ...) or 400 for invalid input. */
  status: z.number().optional(),
  /** Field errors from validation. */
  issues: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
});
export type WireError = z.infer<typeof WireErrorSchema>;

export const ServerMessageSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('result'), id: msgId, value: z.unknown() }),
  z.object({ kind: z.literal('error'), id: msgId, error: WireErrorSchema }),
  z.object({ kind: z.literal('event'), id: msgId, event: z.unknown() }),
  z.object({ kind: z.literal('end'), id: msgId, error: WireErrorSchema.optional() }),
]);
export type ServerMessage = z.infer<typeof ServerMessageSchema>;

/** Something that carries messages both ways: the preload's API, a WebSocket, or a test pair. */
export interface MessagePort {
  send(message: ClientMessage): void;
  /** Returns a function that stops listening. */
  onMessage(listener: (message: ServerMessage) => void): () => void;
}

/** What the preload exposes as window.berth. */
export interface PreloadApi extends MessagePort {
  readonly platform: string;
  readonly versions: { electron: string; chrome: string; node: string; berth: string };
}
