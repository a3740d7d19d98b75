/** Logs Ingestion: the upload operation (data collection endpoint host) and the /_emulator/monitor/* control endpoints. */
import { clearStreamRows, ingestionEndpoint, ingestRows, ruleStream, streamRows } from "../backend/ingestion.js";
import type { DataCollectionRuleState, StreamState } from "../backend/state.js";
import { badControlInput, ServiceError } from "../errors.js";
import type { Handler, HandlerContext } from "./context.js";
import { ok } from "./context.js";

/** POST /dataCollectionRules/{ruleId}/streams/{stream}: 204 without a body once the batch is stored. */
export const upload: Handler = (ctx) => {
  const { req } = ctx;
  ingestRows(ctx.rt, req.dataCollectionRule!, ctx.params.stream ?? "", { raw: req.rawBody ?? Buffer.alloc(0), contentEncoding: req.contentEncoding });
  return { status: 204 };
};

function streamOf(ctx: HandlerContext): { rule: DataCollectionRuleState; stream: StreamState } {
  const name = ctx.params.ruleName ?? "";
  const streamName = ctx.params.stream ?? "";
  const { rule, stream } = ruleStream(ctx.rt.state, name, streamName);
  if (!rule) {
    const known = [...ctx.rt.state.dataCollectionRules.values()].map((r) => r.name);
    throw new ServiceError(404, "RuleNotFound", `ruleName: no data collection rule '${name}' in the estate (${known.length ? known.join(", ") : "it has none"})`);
  }
  if (!stream) throw new ServiceError(404, "StreamNotFound", `stream: rule '${rule.name}' declares no stream '${streamName}' (${[...rule.streams.values()].map((s) => s.name).join(", ")})`);
  return { rule, stream };
}

export const listRules: Handler = (ctx) =>
  ok({
    rules: [...ctx.rt.state.dataCollectionRules.values()].map((r) => ({
      name: r.name,
      immutableId: r.immutableId,
      endpoint: ingestionEndpoint(ctx.rt, r),
      streams: [...r.streams.values()].map((s) => s.name),
      id: r.resourceId,
      ingestors: [...r.ingestors],
    })),
  });

export const listRows: Handler = (ctx) => {
  const { stream } = streamOf(ctx);
  const raw = ctx.req.query.get("since");
  const since = raw === null ? 0 : Number(raw);
  if (!Number.isInteger(since) || since < 0) throw badControlInput("since", "must be a whole number (a seq; 0 = every row)");
  return ok({
    rows: streamRows(stream, since).map((r) => ({
      seq: r.seq,
      receivedAt: r.receivedAt.toISOString(),
      row: r.row,
      ...(r.droppedColumns.length > 0 ? { droppedColumns: r.droppedColumns } : {}),
      ...(r.invalidValues.length > 0 ? { invalidValues: r.invalidValues } : {}),
    })),
  });
};

export const clearRows: Handler = (ctx) => ok({ deleted: clearStreamRows(streamOf(ctx).stream) });
