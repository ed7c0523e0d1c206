using System.Reflection;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using CnnInterpret.Core;
using CnnInterpret.Daemon;
using StreamJsonRpc;

namespace CnnInterpret.ProtocolTypeScript;

/// <summary>
/// The daemon's protocol as TypeScript, read from the daemon itself: the method names (<see cref="Methods"/>), the
/// error codes (<see cref="ErrorKind"/> and <see cref="ErrorCodes"/>), and one interface per record a handler's
/// method takes or returns, or that <c>$/progress</c> and errors carry. Members are the ones System.Text.Json writes
/// with the daemon's options (camelCase; nulls left out, so a nullable member, or one with a default, is optional),
/// documented with the records' own doc comments.
/// </summary>
public static class TypeScriptProtocol
{
    /// <summary>Where the generated file lives, from the repository root.</summary>
    public const string FileName = "extension/src/protocol.generated.ts";

    /// <summary>What regenerates it, from the repository root.</summary>
    public const string Command = "npm run protocol";

    private static readonly JsonSerializerOptions Json = new(RpcServer.JsonOptions) { TypeInfoResolver = new DefaultJsonTypeInfoResolver() };

    public static string Generate() => new Writer().Write();

    private sealed class Writer
    {
        private readonly StringBuilder _out = new();
        private readonly List<Type> _records = [];
        private readonly Dictionary<Assembly, Dictionary<string, XElement>> _docs = [];

        public string Write()
        {
            var methods = RpcMethods();
            foreach (var (_, parameters, result) in methods)
            {
                if (parameters is not null) Visit(parameters);
                Visit(result);
            }
            Visit(typeof(ProgressParams));
            Visit(typeof(ErrorData));

            _out.Append("""
                // GENERATED from the daemon's protocol (src/CnnInterpret.Daemon/Protocol.cs: its records, the handlers' methods,
                // ErrorKind and the Core records they carry) by build/ProtocolTypeScript. Do not edit: change the C#, then run
                // `npm run protocol` at the repository root (a .NET test fails while this file differs from what it writes).
                // Members are those System.Text.Json writes with the daemon's options: camelCase, nulls left out, so a member
                // that is nullable in C#, or has a default, is optional here.


                """);
            foreach (var field in Constants(typeof(JsonValues)))
            {
                Doc(Summary(Member(typeof(JsonValues).Assembly, $"F:{FullName(typeof(JsonValues))}.{field.Name}")), "");
                _out.Append($"export type {field.Name} = {field.GetRawConstantValue()};\n\n");
            }

            Doc("Every method the daemon serves, `area/verb`.", "");
            _out.Append("export const Methods = {\n");
            foreach (var field in Constants(typeof(Methods))) _out.Append($"    {Camel(field.Name)}: \"{field.GetRawConstantValue()}\",\n");
            _out.Append("} as const;\n\nexport type MethodName = (typeof Methods)[keyof typeof Methods];\n\n");

            Doc(Summary(Member(typeof(ErrorKind).Assembly, $"T:{FullName(typeof(ErrorKind))}")) + " Then the daemon's other JSON-RPC codes.", "");
            _out.Append("export const ErrorCodes = {\n");
            foreach (var kind in Enum.GetValues<ErrorKind>())
            {
                Doc(Summary(Member(typeof(ErrorKind).Assembly, $"F:{FullName(typeof(ErrorKind))}.{kind}")), "    ");
                _out.Append($"    {Camel(kind.ToString())}: {(int)kind},\n");
            }
            foreach (var field in Constants(typeof(ErrorCodes)))
            {
                Doc(Summary(Member(typeof(ErrorCodes).Assembly, $"F:{FullName(typeof(ErrorCodes))}.{field.Name}")), "    ");
                _out.Append($"    {Camel(field.Name)}: {field.GetRawConstantValue()},\n");
            }
            _out.Append("} as const;\n");

            foreach (var record in _records) Interface(record);

            Doc("Each method's params and result, for the client's typed `request`.", "\n");
            _out.Append("export interface RequestTypes {\n");
            foreach (var (name, parameters, result) in methods)
                _out.Append($"    \"{name}\": [{(parameters is null ? "undefined" : TsName(parameters))}, {TsName(result)}];\n");
            _out.Append("}\n");
            return _out.ToString();
        }

        /// <summary>Every method a handler serves, in the order <see cref="Methods"/> lists them; each must be in both.</summary>
        private static List<(string Name, Type? Params, Type Result)> RpcMethods()
        {
            var served = typeof(Methods).Assembly.GetTypes()
                .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.DeclaredOnly))
                .Select(m => (Method: m, m.GetCustomAttribute<JsonRpcMethodAttribute>()?.Name))
                .Where(m => m.Name is not null)
                .ToDictionary(m => m.Name!, m => m.Method);
            var names = Constants(typeof(Methods)).Select(f => (string)f.GetRawConstantValue()!).ToList();
            if (served.Keys.Except(names).ToList() is { Count: > 0 } unnamed)
                throw new InvalidOperationException($"Served but not in Methods: {string.Join(", ", unnamed)}.");
            return names.Select(name =>
            {
                var method = served.GetValueOrDefault(name) ?? throw new InvalidOperationException($"Methods has '{name}', which no handler serves.");
                var parameters = method.GetParameters().Where(p => p.ParameterType != typeof(CancellationToken)).ToList();
                if (parameters.Count > 1) throw new InvalidOperationException($"{name} takes {parameters.Count} parameters; the protocol passes one object.");
                var returns = method.ReturnType;
                if (!returns.IsGenericType || returns.GetGenericTypeDefinition() != typeof(Task<>))
                    throw new InvalidOperationException($"{name} returns {returns}, not Task<T>.");
                return (name, parameters.SingleOrDefault()?.ParameterType, returns.GetGenericArguments()[0]);
            }).ToList();
        }

        private static IEnumerable<FieldInfo> Constants(Type type) =>
            type.GetFields(BindingFlags.Public | BindingFlags.Static).Where(f => f.IsLiteral).OrderBy(f => f.MetadataToken);

        /// <summary>Adds a record and, after it, the records its members carry (depth first, each once).</summary>
        private void Visit(Type type)
        {
            if (!IsRecord(type) || _records.Contains(type)) return;
            _records.Add(type);
            foreach (var property in Json.GetTypeInfo(type).Properties) TsType(property.PropertyType, null, visit: true);
        }

        private static bool IsRecord(Type type) =>
            type.IsClass && type != typeof(string) && type.Namespace?.StartsWith("CnnInterpret.", StringComparison.Ordinal) == true;

        private void Interface(Type type)
        {
            var assembly = type.Assembly;
            var typeDoc = Member(assembly, $"T:{FullName(type)}");
            Doc(Summary(typeDoc), "\n");
            _out.Append($"export interface {TsName(type)} {{\n");
            foreach (var property in Json.GetTypeInfo(type).Properties)
            {
                if (property.Get is null) continue;
                var member = property.AttributeProvider as PropertyInfo
                             ?? throw new InvalidOperationException($"{type.Name}.{property.Name} is not a property.");
                var doc = typeDoc?.Elements("param").FirstOrDefault(p => (string?)p.Attribute("name") == member.Name) is { } param
                    ? Text(param)
                    : Summary(Member(assembly, $"P:{FullName(type)}.{member.Name}"));
                Doc(doc, "    ");
                var optional = property.IsGetNullable || property.AssociatedParameter?.HasDefaultValue == true;
                var alias = member.GetCustomAttribute<JsonValueAttribute>()?.Name;
                _out.Append($"    {property.Name}{(optional ? "?" : "")}: {TsType(property.PropertyType, alias, visit: false)};\n");
            }
            _out.Append("}\n");
        }

        private string TsType(Type type, string? alias, bool visit)
        {
            type = Nullable.GetUnderlyingType(type) ?? type;
            if (type == typeof(JsonElement) || type == typeof(object)) return alias ?? "unknown";
            if (type == typeof(string) || type == typeof(byte[])) return "string"; // byte[]: base64
            if (type == typeof(bool)) return "boolean";
            if (type.IsPrimitive || type == typeof(decimal)) return "number";
            if (type.IsArray) return ListOf(TsType(type.GetElementType()!, alias, visit));
            if ((Generic(type, typeof(IReadOnlyDictionary<,>)) ?? Generic(type, typeof(IDictionary<,>))) is { } dictionary)
                return dictionary[0] == typeof(string) ? $"Record<string, {TsType(dictionary[1], alias, visit)}>"
                    : throw new NotSupportedException($"{type}: JSON objects have string keys.");
            if (Generic(type, typeof(IEnumerable<>)) is { } list) return ListOf(TsType(list[0], alias, visit));
            if (IsRecord(type))
            {
                if (visit) Visit(type);
                return TsName(type);
            }
            throw new NotSupportedException($"{type} has no TypeScript mapping: use a record, a list, a string-keyed dictionary or a primitive.");
        }

        private static Type[]? Generic(Type type, Type definition) =>
            (type.IsGenericType && type.GetGenericTypeDefinition() == definition ? type
                : type.GetInterfaces().FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == definition))?.GetGenericArguments();

        private static string ListOf(string element) => element.Contains(' ') ? $"({element})[]" : $"{element}[]";

        /// <summary>The C# name without its "Dto" suffix (the suffix only tells C# readers it is a wire record).</summary>
        private static string TsName(Type type) => type.Name.EndsWith("Dto", StringComparison.Ordinal) ? type.Name[..^3] : type.Name;

        private static string FullName(Type type) => type.FullName!.Replace('+', '.');

        private static string Camel(string name) => JsonNamingPolicy.CamelCase.ConvertName(name);

        private void Doc(string text, string indent)
        {
            if (indent.StartsWith('\n'))
            {
                _out.Append('\n');
                indent = indent[1..];
            }
            if (text.Length > 0) _out.Append($"{indent}/** {text.Replace("*/", "*\\/")} */\n");
        }

        /// <summary>A member's doc comment from the assembly's XML documentation file (built beside it), or null.</summary>
        private XElement? Member(Assembly assembly, string id)
        {
            if (!_docs.TryGetValue(assembly, out var members))
            {
                var file = Path.ChangeExtension(assembly.Location, ".xml");
                if (!File.Exists(file)) throw new FileNotFoundException($"No XML documentation beside {assembly.Location}: its project must set GenerateDocumentationFile.", file);
                members = XDocument.Load(file).Descendants("member").ToDictionary(m => (string)m.Attribute("name")!);
                _docs[assembly] = members;
            }
            return members.GetValueOrDefault(id);
        }

        private static string Summary(XElement? member) => Text(member?.Element("summary"));

        /// <summary>A doc comment as one line of text: code in backticks, references by their short name.</summary>
        private static string Text(XElement? element) =>
            element is null ? "" : Regex.Replace(string.Concat(element.Nodes().Select(NodeText)), @"\s+", " ").Trim();

        private static string NodeText(XNode node) => node switch
        {
            XText text => text.Value,
            XElement { Name.LocalName: "see" or "seealso" } see => see.Attribute("cref") is { } cref ? $"`{ShortName(cref.Value)}`" : (string?)see.Attribute("langword") ?? see.Value,
            XElement { Name.LocalName: "paramref" or "typeparamref" } reference => $"`{Camel((string)reference.Attribute("name")!)}`",
            XElement { Name.LocalName: "c" or "code" } code => $"`{code.Value}`",
            XElement other => string.Concat(other.Nodes().Select(NodeText)),
            _ => "",
        };

        private static string ShortName(string cref)
        {
            var name = cref[(cref.IndexOf(':') + 1)..];
            if (name.IndexOf('(') is var call and >= 0) name = name[..call];
            name = name[(name.LastIndexOf('.') + 1)..];
            return name.EndsWith("Dto", StringComparison.Ordinal) ? name[..^3] : name;
        }
    }
}
