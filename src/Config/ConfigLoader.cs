namespace Calico.Bgp.Config;

/// <summary>Reads a BIRD 1.6 configuration (as Calico's confd writes it) into a <see cref="BirdConfig"/>.</summary>
public static class ConfigLoader
{
    /// <summary>Reads <paramref name="path"/> and its includes. Errors are <see cref="ConfigException"/>s.</summary>
    public static BirdConfig Load(string path, ConfigLoadOptions? options = null)
    {
        var ctx = new ParseContext(options ?? new ConfigLoadOptions());
        ParseFileInto(path, ctx, null);
        return Build(ctx);
    }

    /// <summary>Parses <paramref name="text"/> as if it were the file <paramref name="fileName"/> (includes are read relative to it).</summary>
    public static BirdConfig Parse(string text, string fileName, ConfigLoadOptions? options = null)
    {
        var ctx = new ParseContext(options ?? new ConfigLoadOptions());
        ParseTextInto(text, fileName, ctx);
        return Build(ctx);
    }

    internal static void ParseFileInto(string path, ParseContext ctx, SourceLocation? includedFrom)
    {
        var full = Path.GetFullPath(path);
        if (includedFrom is { } at && ctx.IncludeStack.Contains(full))
            throw new ConfigException(at, $"include loop: '{path}' is already being read");
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            var reason = e is FileNotFoundException or DirectoryNotFoundException ? "no such file" : e.Message;
            if (includedFrom is { } loc)
                throw new ConfigException(loc, $"cannot read include file '{path}': {reason}");
            throw new ConfigException(new SourceLocation(path, 1, 1), $"cannot read configuration file: {reason}");
        }
        ParseTextInto(text, path, ctx);
    }

    private static void ParseTextInto(string text, string fileName, ParseContext ctx)
    {
        ctx.Files.Add(fileName);
        ctx.IncludeStack.Add(Path.GetFullPath(fileName));
        try
        {
            var tokens = Lexer.Tokenize(text, fileName);
            new Parser(tokens, ctx, fileName).ParseFile();
        }
        finally
        {
            ctx.IncludeStack.RemoveAt(ctx.IncludeStack.Count - 1);
        }
    }

    private static BirdConfig Build(ParseContext ctx) => new()
    {
        RouterId = ctx.RouterId,
        ListenBgp = ctx.ListenBgp,
        Protocols = ctx.Protocols.ToArray(),
        Filters = new Dictionary<string, FilterDefinition>(ctx.Filters),
        Functions = ctx.Functions.ToDictionary(kv => kv.Key, kv => kv.Value.Definition),
        Files = ctx.Files.ToArray(),
        Ipv6 = ctx.Ipv6,
        DualStack = ctx.DualStack,
    };
}
