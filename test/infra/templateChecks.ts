/**
 * Checks of KeyWarden's ARM templates (infra/) without Azure: every resource's type, apiVersion and body against the
 * official spec of that api-version (the committed spec extractions), every expression against the declared
 * parameters, variables and resources, and the role assignments the templates make. Each check returns problems as
 * sentences naming the resource or the expression (empty: none), so that a test can show a wrong template fail.
 */
import { isObject, type JsonObject } from "../support/swaggerSchema.js";
import { extractionFile, readExtraction, type SpecExtraction, type SpecPackName } from "../support/specExtraction.js";
import { loadSpecs } from "../support/specValidator.js";
import { calls, isExpression, literalArg, parseExpression, print, type Expr } from "./armExpressions.js";
import { DEPLOYMENT_TYPES, UNVALIDATED_TYPES } from "./deploymentTypes.js";

export interface ParameterDeclaration {
  type: string;
  defaultValue?: unknown;
  allowedValues?: unknown[];
  minValue?: number;
  maxValue?: number;
  minLength?: number;
  maxLength?: number;
}

export interface ArmResource {
  type: string;
  apiVersion: string;
  name: string;
  [key: string]: unknown;
}

export interface ArmTemplate {
  $schema: string;
  parameters?: Record<string, ParameterDeclaration>;
  variables?: Record<string, unknown>;
  resources: ArmResource[];
  outputs?: Record<string, { type: string; value: unknown }>;
}

type Call = Extract<Expr, { kind: "call" }>;

const DEPLOYMENTS = "microsoft.resources/deployments";

/**
 * Children the templates name through a declared parent without declaring them as resources of their own: subnets
 * (declared inside the virtual network's `properties.subnets`) and the function the code deploys.
 */
export const NAMED_CHILDREN: Readonly<Record<string, string>> = {
  "Microsoft.Network/virtualNetworks/subnets": "declared in the virtual network's properties.subnets",
  "Microsoft.Web/sites/functions": "keyEvents, deployed with the code (hence deployEventSubscription)",
};

/** The ARM template functions the templates may call; a typo in a function name is a problem, not a deployment failure. */
const FUNCTIONS = new Set(
  [
    "parameters", "variables", "reference", "resourceId", "subscriptionResourceId", "extensionResourceId", "tenantResourceId",
    "resourceGroup", "subscription", "tenant", "environment", "deployment", "format", "concat", "uniqueString", "guid",
    "toLower", "toUpper", "take", "skip", "split", "last", "first", "length", "empty", "contains", "replace", "substring",
    "string", "int", "bool", "json", "if", "not", "and", "or", "equals", "null", "true", "false", "createArray",
    "createObject", "union", "coalesce",
  ].map((f) => f.toLowerCase()),
);

/** Keys of a resource that are the template's own (not sent in the PUT body). */
const TEMPLATE_KEYS = new Set(["type", "apiVersion", "name", "dependsOn", "condition", "scope", "comments", "copy", "resourceGroup", "subscriptionId", "metadata"]);
/** Keys of a resource that ARM sends in the PUT body. */
const BODY_KEYS = new Set(["location", "tags", "properties", "identity", "sku", "kind", "zones", "plan", "etag", "extendedLocation"]);

/** A template and every nested deployment template (inner scope), each with where it sits. */
export interface TemplateScope {
  template: ArmTemplate;
  where: string;
  /** the Microsoft.Resources/deployments resource holding a nested template */
  deployment?: ArmResource;
  parent?: TemplateScope;
}

export function templateScopes(t: ArmTemplate, where = "template", deployment?: ArmResource, parent?: TemplateScope): TemplateScope[] {
  const me: TemplateScope = { template: t, where, ...(deployment ? { deployment } : {}), ...(parent ? { parent } : {}) };
  const out = [me];
  for (const r of t.resources) {
    if (r.type.toLowerCase() !== DEPLOYMENTS) continue;
    const props = r.properties as JsonObject | undefined;
    if (isObject(props) && isObject(props.template)) out.push(...templateScopes(props.template as unknown as ArmTemplate, `${where} > deployment ${r.name}`, r, me));
  }
  return out;
}

/** Every string of a scope's template, with its JSON path, nested deployment templates left out (their own scope). */
function strings(t: ArmTemplate): { at: string; value: string }[] {
  const out: { at: string; value: string }[] = [];
  const walk = (v: unknown, at: string): void => {
    if (typeof v === "string") out.push({ at, value: v });
    else if (Array.isArray(v)) v.forEach((x, i) => walk(x, `${at}[${i}]`));
    else if (isObject(v)) {
      for (const [k, x] of Object.entries(v)) {
        if (k === "template" && at.endsWith(".properties") && /resources\[\d+\]\.properties$/.test(at)) continue;
        walk(x, `${at}.${k}`);
      }
    }
  };
  walk(t, "");
  return out;
}

function resourceTypeArgIndex(c: Call): number {
  return c.args.findIndex((a) => a.kind === "string" && /^[A-Za-z]+\.[A-Za-z.]+\/[^/]/.test(a.value));
}

/** A declared resource's name as canonical segments ("a/b" → ['a','b']; format('{0}/x', v) → [v, 'x']). */
export function nameSegments(name: string): string[] {
  if (!isExpression(name)) return name.split("/").map((s) => print({ kind: "string", value: s }));
  const e = parseExpression(name);
  if (e.kind === "call" && e.name.toLowerCase() === "format" && e.args[0]?.kind === "string") {
    const parts = e.args[0].value.split("/");
    return parts.map((p) => {
      const m = /^\{(\d+)\}$/.exec(p);
      if (m) {
        const arg = e.args[Number(m[1]) + 1];
        return arg ? print(arg) : p;
      }
      return /\{\d+\}/.test(p) ? print({ kind: "call", name: "format", args: [{ kind: "string", value: p }, ...e.args.slice(1)] }) : print({ kind: "string", value: p });
    });
  }
  return [print(e)];
}

interface Declared {
  type: string;
  names: string[];
}

function declared(t: ArmTemplate): Declared[] {
  return t.resources.map((r) => ({ type: r.type.toLowerCase(), names: nameSegments(r.name) }));
}

/** The (type, names) a resourceId() call names, or a scope string 'Type/name' built with format(). */
function resourceIdTarget(c: Call): Declared | undefined {
  const i = resourceTypeArgIndex(c);
  if (i < 0) return undefined;
  return { type: (c.args[i] as { value: string }).value.toLowerCase(), names: c.args.slice(i + 1).map(print) };
}

function sameTarget(a: Declared, b: Declared): boolean {
  return a.type === b.type && a.names.length === b.names.length && a.names.every((n, i) => n === b.names[i]);
}

/** Problems with what a resourceId() names in a scope: a declared resource, or a named child of a declared one. */
function resourceIdProblem(c: Call, decl: readonly Declared[], at: string): string | undefined {
  const target = resourceIdTarget(c);
  if (!target) return `${at}: ${print(c)} names no resource type`;
  if (decl.some((d) => sameTarget(d, target))) return undefined;
  const child = Object.keys(NAMED_CHILDREN).find((k) => k.toLowerCase() === target.type);
  if (child) {
    const parent = { type: target.type.split("/").slice(0, -1).join("/"), names: target.names.slice(0, -1) };
    if (decl.some((d) => sameTarget(d, parent))) return undefined;
    return `${at}: ${print(c)} names a ${child} whose parent is not declared in the template`;
  }
  return `${at}: ${print(c)} names a resource the template does not declare`;
}

/**
 * Expression problems of one scope: unparseable expressions, unknown functions, parameters() and variables() of
 * undeclared names (or of a non-literal name), parameters and variables declared and never used, resourceId() of an
 * undeclared resource, reference() of anything but a resourceId().
 */
export function expressionProblems(scope: TemplateScope): string[] {
  const t = scope.template;
  const problems: string[] = [];
  const params = new Set(Object.keys(t.parameters ?? {}));
  const vars = new Set(Object.keys(t.variables ?? {}));
  const usedParams = new Set<string>();
  const usedVars = new Set<string>();
  const decl = declared(t);
  const where = (at: string) => `${scope.where}${at}`;
  for (const { at, value } of strings(t)) {
    if (!isExpression(value)) continue;
    let e: Expr;
    try {
      e = parseExpression(value);
    } catch (err) {
      problems.push(`${where(at)}: ${(err as Error).message}`);
      continue;
    }
    for (const c of calls(e)) {
      const fn = c.name.toLowerCase();
      if (!FUNCTIONS.has(fn) && !fn.startsWith("list")) problems.push(`${where(at)}: unknown template function ${c.name}()`);
      if (fn === "parameters" || fn === "variables") {
        const name = literalArg(c, 0);
        const table = fn === "parameters" ? params : vars;
        if (name === undefined) problems.push(`${where(at)}: ${print(c)} names no literal ${fn === "parameters" ? "parameter" : "variable"}`);
        else if (!table.has(name)) problems.push(`${where(at)}: ${fn}('${name}') is not declared in the template's ${fn}`);
        else (fn === "parameters" ? usedParams : usedVars).add(name);
      }
      if (fn === "resourceid") {
        const p = resourceIdProblem(c, decl, where(at));
        if (p) problems.push(p);
      }
      if (fn === "reference") {
        const target = c.args[0];
        if (!(target?.kind === "call" && target.name.toLowerCase() === "resourceid")) problems.push(`${where(at)}: ${print(c)} does not name its resource with resourceId()`);
      }
    }
  }
  for (const p of params) if (!usedParams.has(p)) problems.push(`${scope.where}: parameter '${p}' is declared and never used`);
  for (const v of vars) if (!usedVars.has(v)) problems.push(`${scope.where}: variable '${v}' is declared and never used`);
  return problems;
}

/** A stand-in value of a parameter for body validation: its default, else its first allowed value, else one of its type. */
function sampleOf(p: ParameterDeclaration): unknown {
  if (p.defaultValue !== undefined && !(typeof p.defaultValue === "string" && isExpression(p.defaultValue))) return p.defaultValue;
  if (p.allowedValues && p.allowedValues.length > 0) return p.allowedValues[0];
  switch (p.type.toLowerCase()) {
    case "int":
      return p.minValue ?? 0;
    case "bool":
      return false;
    case "array":
      return [];
    case "object":
    case "secureobject":
      return {};
    default:
      return "sample";
  }
}

/**
 * The value ARM would send, as far as it can be known without Azure: "[parameters('x')]" of a non-string parameter
 * becomes a value of its type, "[variables('y')]" the variable's value; every other expression stays a string (and
 * is accepted where a string is expected, its format aside: see resourceProblems).
 */
export function materialize(v: unknown, t: ArmTemplate, depth = 0): unknown {
  if (depth > 20) return v;
  if (typeof v === "string" && isExpression(v)) {
    let e: Expr;
    try {
      e = parseExpression(v);
    } catch {
      return v;
    }
    if (e.kind === "call" && e.args.length === 1) {
      const name = literalArg(e, 0);
      const fn = e.name.toLowerCase();
      if (fn === "parameters" && name !== undefined) {
        const p = t.parameters?.[name];
        if (p && !["string", "securestring"].includes(p.type.toLowerCase())) return sampleOf(p);
      }
      if (fn === "variables" && name !== undefined && t.variables && name in t.variables) return materialize(t.variables[name], t, depth + 1);
    }
    return v;
  }
  if (Array.isArray(v)) return v.map((x) => materialize(x, t, depth + 1));
  if (isObject(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, materialize(x, t, depth + 1)]));
  return v;
}

/** Messages of a string check (not a type check) that an expression in a string position is excused from. */
const STRING_CHECKS = [/^must match format /, /^must match pattern /, /^must be equal to one of the allowed values/, /^must NOT have (fewer|more) than \d+ characters/];

function pointerValue(root: unknown, pointer: string): unknown {
  if (pointer === "/" || pointer === "") return root;
  let cur: unknown = root;
  for (const raw of pointer.split("/").slice(1)) {
    const seg = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    cur = Array.isArray(cur) ? cur[Number(seg)] : isObject(cur) ? cur[seg] : undefined;
  }
  return cur;
}

interface BodyOperation {
  pack: SpecPackName;
  specFile: string;
  apiVersion: string;
  bodyFile: string;
  bodyDefinition: string;
}

/**
 * The value lists of a pack's extensible enums (x-ms-enum modelAsString: true): Azure accepts other values there
 * (DCR streams "Custom-*"), though the validator, built for responses, holds them to the list.
 */
const extensibleEnums = new Map<SpecPackName, Set<string>>();
function extensibleEnumsOf(pack: SpecPackName): Set<string> {
  let set = extensibleEnums.get(pack);
  if (!set) {
    const found = new Set<string>();
    const walk = (v: unknown): void => {
      if (Array.isArray(v)) v.forEach(walk);
      else if (isObject(v)) {
        if (Array.isArray(v.enum) && isObject(v["x-ms-enum"]) && v["x-ms-enum"].modelAsString === true) found.add(JSON.stringify(v.enum));
        Object.values(v).forEach(walk);
      }
    };
    walk(extraction(pack).specs);
    set = found;
    extensibleEnums.set(pack, set);
  }
  return set;
}

const extractions = new Map<SpecPackName, SpecExtraction>();
function extraction(pack: SpecPackName): SpecExtraction {
  let x = extractions.get(pack);
  if (!x) {
    x = readExtraction(extractionFile(pack));
    extractions.set(pack, x);
  }
  return x;
}

/** The PUT operation of a deployment type in its pack's extraction: api-version and the body's definition. */
export function bodyOperation(type: string): BodyOperation | undefined {
  const d = DEPLOYMENT_TYPES.find((x) => x.type.toLowerCase() === type.toLowerCase());
  if (!d) return undefined;
  const doc = extraction(d.pack).specs[d.specFile];
  if (!doc) return undefined;
  const apiVersion = isObject(doc.info) && typeof doc.info.version === "string" ? doc.info.version : "";
  for (const section of ["paths", "x-ms-paths"]) {
    const paths = doc[section];
    if (!isObject(paths)) continue;
    for (const item of Object.values(paths)) {
      const put = isObject(item) ? item.put : undefined;
      if (!isObject(put) || put.operationId !== d.operationId) continue;
      const body = (Array.isArray(put.parameters) ? put.parameters : []).find((p): p is JsonObject => isObject(p) && p.in === "body");
      const ref = isObject(body) && isObject(body.schema) && typeof body.schema.$ref === "string" ? body.schema.$ref : undefined;
      if (!ref) return undefined;
      const [file = "", pointer = ""] = ref.split("#");
      const dir = d.specFile.split("/").slice(0, -1);
      const bodyFile = file ? normalize([...dir, ...file.split("/")]).join("/") : d.specFile;
      return { pack: d.pack, specFile: d.specFile, apiVersion, bodyFile, bodyDefinition: pointer.split("/").pop() ?? "" };
    }
  }
  return undefined;
}

function normalize(segs: string[]): string[] {
  const out: string[] = [];
  for (const s of segs) {
    if (s === "." || s === "") continue;
    if (s === "..") out.pop();
    else out.push(s);
  }
  return out;
}

export interface ResourceReport {
  problems: string[];
  /** "<type> (<where>): <reason>" of every resource whose body no spec validates */
  unvalidated: string[];
  /** "<type> <apiVersion>: <spec file>#<definition>" of every resource validated */
  validated: string[];
  /** "<type> <pointer>: <value>" of every value outside an extensible enum's list (accepted: Azure takes others) */
  extensible: string[];
}

/**
 * Validates every resource of every scope: a known type (in a pack's extraction, or named in UNVALIDATED_TYPES), the
 * api-version of its spec, no key ARM does not know, and its body (location, tags, properties, identity, sku, kind…)
 * against the PUT body definition — an unknown property or a wrong type is a problem. Expressions are accepted where
 * a string is expected (their format, pattern and enum aside: the expression check covers them).
 */
export function resourceProblems(t: ArmTemplate): ResourceReport {
  const report: ResourceReport = { problems: [], unvalidated: [], validated: [], extensible: [] };
  for (const scope of templateScopes(t)) {
    scope.template.resources.forEach((r, i) => {
      const where = `${scope.where}.resources[${i}] ${r.type} ${r.name}`;
      for (const k of Object.keys(r)) if (!TEMPLATE_KEYS.has(k) && !BODY_KEYS.has(k)) report.problems.push(`${where}: unknown resource key '${k}'`);
      const reason = Object.entries(UNVALIDATED_TYPES).find(([k]) => k.toLowerCase() === r.type.toLowerCase())?.[1];
      if (reason !== undefined) {
        report.unvalidated.push(`${r.type} ${r.apiVersion} (${scope.where}): ${reason}`);
        return;
      }
      const op = bodyOperation(r.type);
      if (!op) {
        report.problems.push(`${where}: type ${r.type} is in neither spec extraction (test/infra/deploymentTypes.ts) nor UNVALIDATED_TYPES`);
        return;
      }
      if (r.apiVersion !== op.apiVersion) {
        report.problems.push(`${where}: apiVersion ${r.apiVersion} is not the one the packs hold for ${r.type} (${op.apiVersion}, ${op.specFile})`);
        return;
      }
      const body = materialize(Object.fromEntries(Object.entries(r).filter(([k]) => BODY_KEYS.has(k))), scope.template);
      const errors = loadSpecs(op.pack).validateDefinition(op.bodyFile, op.bodyDefinition, body);
      for (const e of errors) {
        const m = /^\S+ (\S+): (.*)$/.exec(e);
        const value = m ? pointerValue(body, m[1] as string) : undefined;
        if (m && typeof value === "string" && isExpression(value) && STRING_CHECKS.some((re) => re.test(m[2] as string))) continue;
        const allowed = m ? /^must be equal to one of the allowed values: (\[.*\])$/.exec(m[2] as string)?.[1] : undefined;
        if (allowed !== undefined && typeof value === "string" && extensibleEnumsOf(op.pack).has(allowed)) {
          report.extensible.push(`${r.type} ${m?.[1]}: ${value}`);
          continue;
        }
        report.problems.push(`${where}: ${e}`);
      }
      report.validated.push(`${r.type} ${r.apiVersion}: ${op.bodyFile}#${op.bodyDefinition}`);
    });
  }
  return report;
}

export interface RoleAssignmentFact {
  roleGuid: string;
  /** a PERMISSIONS scopeTemplate: "/subscriptions/{subscriptionId}", "{storageAccountResourceId}", "{workspaceResourceId}", … */
  scope: string;
  principal: string;
  where: string;
}

/** Declared resource types whose id is the scope placeholder PERMISSIONS names. */
export const RESOURCE_SCOPES: Readonly<Record<string, string>> = {
  "microsoft.storage/storageaccounts": "{storageAccountResourceId}",
  "microsoft.eventgrid/topics": "{topicResourceId}",
  "microsoft.insights/datacollectionrules": "{dataCollectionRuleResourceId}",
};

/** 'Type/{0}' built with format(), or a resourceId(): the (type, names) a role assignment's scope names. */
function scopeTarget(e: Expr): Declared | undefined {
  if (e.kind !== "call") return undefined;
  const fn = e.name.toLowerCase();
  if (fn === "resourceid") return resourceIdTarget(e);
  if (fn === "format" && e.args[0]?.kind === "string") {
    const parts = e.args[0].value.split("/");
    if (parts.length < 3) return undefined;
    const type = parts.filter((_, i) => i === 0 || i % 2 === 1).join("/");
    const names = parts.filter((_, i) => i > 0 && i % 2 === 0).map((p) => {
      const m = /^\{(\d+)\}$/.exec(p);
      const arg = m ? e.args[Number(m[1]) + 1] : undefined;
      return arg ? print(arg) : print({ kind: "string", value: p });
    });
    return { type: type.toLowerCase(), names };
  }
  return undefined;
}

/**
 * The role assignments of a template (nested deployments included), as PERMISSIONS describes them: the role's GUID and
 * the scope as its scopeTemplate. Problems: a role not named by a literal GUID, a scope that is neither a declared
 * resource of a known kind, the subscription, nor a parameter passed in by the parent template.
 */
export function roleAssignments(t: ArmTemplate): { facts: RoleAssignmentFact[]; problems: string[] } {
  const facts: RoleAssignmentFact[] = [];
  const problems: string[] = [];
  const subscriptionScope = t.$schema.includes("subscriptionDeploymentTemplate");
  for (const scope of templateScopes(t)) {
    const decl = declared(scope.template);
    scope.template.resources.forEach((r, i) => {
      if (r.type.toLowerCase() !== "microsoft.authorization/roleassignments") return;
      const where = `${scope.where}.resources[${i}] ${r.name}`;
      const props = isObject(r.properties) ? r.properties : {};
      const roleExpr = typeof props.roleDefinitionId === "string" && isExpression(props.roleDefinitionId) ? parseExpression(props.roleDefinitionId) : undefined;
      const roleGuid = roleExpr?.kind === "call" && roleExpr.name.toLowerCase() === "subscriptionresourceid" && literalArg(roleExpr, 0) === "Microsoft.Authorization/roleDefinitions" ? literalArg(roleExpr, 1) : undefined;
      if (!roleGuid) {
        problems.push(`${where}: roleDefinitionId is not subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '<guid>')`);
        return;
      }
      const principal = typeof props.principalId === "string" ? props.principalId : "";
      let scopeLabel: string | undefined;
      if (r.scope === undefined) scopeLabel = scope.deployment ? undefined : subscriptionScope ? "/subscriptions/{subscriptionId}" : "{resourceGroupId}";
      else if (typeof r.scope === "string" && isExpression(r.scope)) {
        const e = parseExpression(r.scope);
        const target = scopeTarget(e);
        if (target && decl.some((d) => sameTarget(d, target))) scopeLabel = RESOURCE_SCOPES[target.type];
        else if (e.kind === "call" && e.name.toLowerCase() === "parameters" && scope.deployment) {
          // a nested deployment's scope parameter: the parent's parameters it is built from name the scope
          const name = literalArg(e, 0) ?? "";
          const passed = ((scope.deployment.properties as JsonObject).parameters as Record<string, { value?: unknown }> | undefined)?.[name]?.value;
          const outer = typeof passed === "string" && isExpression(passed) ? calls(parseExpression(passed)).filter((c) => c.name.toLowerCase() === "parameters").map((c) => literalArg(c, 0)) : [];
          if (outer.length === 1 && outer[0]) scopeLabel = `{${outer[0]}}`;
        }
      }
      if (!scopeLabel) {
        problems.push(`${where}: scope ${JSON.stringify(r.scope)} is not a declared resource KeyWarden owns, the subscription, or a resource id passed as a parameter`);
        return;
      }
      facts.push({ roleGuid, scope: scopeLabel, principal, where });
    });
  }
  return { facts, problems };
}

/** Problems of a parameters file against the template: undeclared names, wrong types, values outside allowedValues or bounds. */
export function parameterFileProblems(file: { parameters?: Record<string, { value?: unknown; reference?: unknown }> }, t: ArmTemplate): string[] {
  const problems: string[] = [];
  const decls = t.parameters ?? {};
  for (const [name, entry] of Object.entries(file.parameters ?? {})) {
    const d = decls[name];
    if (!d) {
      problems.push(`parameter '${name}' is not declared in the template`);
      continue;
    }
    if (!("value" in entry)) {
      if (!("reference" in entry)) problems.push(`parameter '${name}' has neither value nor reference`);
      continue;
    }
    const v = entry.value;
    const type = d.type.toLowerCase();
    const ok =
      type === "string" || type === "securestring"
        ? typeof v === "string"
        : type === "int"
          ? Number.isInteger(v)
          : type === "bool"
            ? typeof v === "boolean"
            : type === "array"
              ? Array.isArray(v)
              : isObject(v);
    if (!ok) problems.push(`parameter '${name}': ${JSON.stringify(v)} is not of type ${d.type}`);
    if (d.allowedValues && !d.allowedValues.some((a) => JSON.stringify(a) === JSON.stringify(v))) problems.push(`parameter '${name}': ${JSON.stringify(v)} is not one of ${JSON.stringify(d.allowedValues)}`);
    if (typeof v === "number" && ((d.minValue !== undefined && v < d.minValue) || (d.maxValue !== undefined && v > d.maxValue))) problems.push(`parameter '${name}': ${v} is outside ${d.minValue}..${d.maxValue}`);
    if (typeof v === "string" && ((d.minLength !== undefined && v.length < d.minLength) || (d.maxLength !== undefined && v.length > d.maxLength))) problems.push(`parameter '${name}': length ${v.length} is outside ${d.minLength}..${d.maxLength}`);
  }
  return problems;
}

/**
 * Ordering problems: a resource whose body reads another declared resource with reference() must list it in
 * dependsOn (ARM runs independent resources in parallel); and a dependsOn entry must name a declared resource.
 */
export function dependencyProblems(t: ArmTemplate): string[] {
  const problems: string[] = [];
  for (const scope of templateScopes(t)) {
    const decl = declared(scope.template);
    scope.template.resources.forEach((r, i) => {
      const where = `${scope.where}.resources[${i}] ${r.type} ${r.name}`;
      const deps: Declared[] = [];
      for (const d of Array.isArray(r.dependsOn) ? (r.dependsOn as unknown[]) : []) {
        const e = typeof d === "string" && isExpression(d) ? parseExpression(d) : undefined;
        const target = e?.kind === "call" && ["resourceid", "subscriptionresourceid"].includes(e.name.toLowerCase()) ? resourceIdTarget(e) : undefined;
        if (!target || !decl.some((x) => sameTarget(x, target))) problems.push(`${where}: dependsOn ${JSON.stringify(d)} is not a resourceId() of a declared resource`);
        else deps.push(target);
      }
      // the resource's own strings: not its dependsOn, nor a nested template (its own scope)
      const { dependsOn: _dependsOn, properties, ...rest } = r;
      const own = isObject(properties) && r.type.toLowerCase() === DEPLOYMENTS ? { ...rest, properties: { ...properties, template: undefined } } : { ...rest, properties };
      for (const { value } of strings(own as unknown as ArmTemplate)) {
        if (!isExpression(value)) continue;
        for (const c of calls(parseExpression(value))) {
          if (c.name.toLowerCase() !== "reference" || c.args[0]?.kind !== "call") continue;
          const target = resourceIdTarget(c.args[0]);
          if (target && decl.some((x) => sameTarget(x, target)) && !deps.some((x) => sameTarget(x, target))) problems.push(`${where}: reads ${print(c.args[0])} with reference() but does not depend on it`);
        }
      }
    });
  }
  return problems;
}
