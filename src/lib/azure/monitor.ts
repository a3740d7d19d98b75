import type { MonitorClient } from "@azure/arm-monitor";
import type { DiagnosticSettingSnapshot } from "../estate/snapshot.js";
import { call } from "./errors.js";
import { defined } from "./managedHsms.js";
import { requireResourceId } from "../estate/resourceId.js";

/** Microsoft.Insights/diagnosticSettings through @azure/arm-monitor. */
export class DiagnosticSettingsArm {
  constructor(private readonly client: (subscriptionId: string) => MonitorClient) {}

  async list(resourceId: string): Promise<DiagnosticSettingSnapshot[]> {
    const { subscriptionId } = requireResourceId(resourceId, "resource id");
    const result = await call("diagnosticSettings.list", resourceId, () => this.client(subscriptionId).diagnosticSettings.list(resourceId));
    return (result.value ?? []).map((s) =>
      defined({
        id: s.id ?? "",
        name: s.name ?? "",
        workspaceId: s.workspaceId,
        storageAccountId: s.storageAccountId,
        eventHubAuthorizationRuleId: s.eventHubAuthorizationRuleId,
        logs: (s.logs ?? []).map((l) => defined({ category: l.category, categoryGroup: (l as { categoryGroup?: string }).categoryGroup, enabled: l.enabled === true })),
      }),
    );
  }
}
