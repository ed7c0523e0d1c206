using System;
using System.Collections.Generic;
using System.IO;
using System.Text;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

/// <summary>
/// Marks the ELF version need GLIBCXX_3.4.32 as weak (VER_FLG_WEAK) in a 64-bit little-endian shared
/// library, but only when every dynamic symbol of that version is an undefined, unrelocated marker
/// (std::ios_base_library_init). Anything else is left untouched with a warning.
/// </summary>
public class MarkGlibcxxMarkerWeak : Task
{
    [Required] public ITaskItem[] Files { get; set; } = Array.Empty<ITaskItem>();

    private const string Version = "GLIBCXX_3.4.32";
    private const string Marker = "_ZSt21ios_base_library_initv";
    private const uint ShtDynsym = 11, ShtRela = 4, ShtVerneed = 0x6ffffffe, ShtVersym = 0x6fffffff;
    private const ushort VerFlgWeak = 2;

    public override bool Execute()
    {
        foreach (var item in Files)
        {
            var path = item.ItemSpec;
            var bytes = File.ReadAllBytes(path);
            var result = Patch(bytes);
            if (result == "patched")
            {
                File.WriteAllBytes(path, bytes);
                Log.LogMessage(MessageImportance.Normal, $"Marked {Version} weak in {path}");
            }
            else if (result != "not needed")
                Log.LogWarning($"Left {path} as it is: {result}");
        }
        return true;
    }

    private static string Patch(byte[] b)
    {
        if (b.Length < 64 || b[0] != 0x7f || b[1] != 'E' || b[2] != 'L' || b[3] != 'F' || b[4] != 2 || b[5] != 1)
            return "not a 64-bit little-endian ELF file";
        long shoff = (long)BitConverter.ToUInt64(b, 0x28);
        int shentsize = BitConverter.ToUInt16(b, 0x3A), shnum = BitConverter.ToUInt16(b, 0x3C);
        var sections = new List<(uint Type, long Offset, long Size, uint Link, uint Info, long EntSize)>();
        for (int i = 0; i < shnum; i++)
        {
            long s = shoff + (long)i * shentsize;
            sections.Add((BitConverter.ToUInt32(b, (int)s + 4), (long)BitConverter.ToUInt64(b, (int)s + 0x18),
                (long)BitConverter.ToUInt64(b, (int)s + 0x20), BitConverter.ToUInt32(b, (int)s + 0x28),
                BitConverter.ToUInt32(b, (int)s + 0x2C), (long)BitConverter.ToUInt64(b, (int)s + 0x38)));
        }
        var verneed = sections.Find(s => s.Type == ShtVerneed);
        var dynsym = sections.Find(s => s.Type == ShtDynsym);
        var versym = sections.Find(s => s.Type == ShtVersym);
        if (verneed.Type == 0 || dynsym.Type == 0 || versym.Type == 0) return "not needed";
        long strtab = sections[(int)verneed.Link].Offset, symstr = sections[(int)dynsym.Link].Offset;

        // Find the vernaux entry for the version.
        int auxOffset = -1, index = -1;
        long entry = verneed.Offset;
        for (uint n = 0; n < verneed.Info; n++)
        {
            int count = BitConverter.ToUInt16(b, (int)entry + 2);
            long aux = entry + BitConverter.ToUInt32(b, (int)entry + 8);
            for (int a = 0; a < count; a++)
            {
                if (Str(b, strtab + BitConverter.ToUInt32(b, (int)aux + 8)) == Version)
                {
                    auxOffset = (int)aux;
                    index = BitConverter.ToUInt16(b, (int)aux + 6) & 0x7fff;
                }
                aux += BitConverter.ToUInt32(b, (int)aux + 12);
            }
            entry += BitConverter.ToUInt32(b, (int)entry + 12);
        }
        if (auxOffset < 0) return "not needed";
        if ((BitConverter.ToUInt16(b, auxOffset + 4) & VerFlgWeak) != 0) return "not needed";

        // Every symbol of that version must be the undefined marker, and no relocation may use it.
        long symbols = dynsym.Size / 24;
        var markerIndex = -1L;
        for (long i = 0; i < symbols; i++)
        {
            if ((BitConverter.ToUInt16(b, (int)(versym.Offset + i * 2)) & 0x7fff) != index) continue;
            long sym = dynsym.Offset + i * 24;
            var name = Str(b, symstr + BitConverter.ToUInt32(b, (int)sym));
            if (name != Marker || BitConverter.ToUInt16(b, (int)sym + 6) != 0) return $"{Version} is needed by {name}, not only by the marker";
            markerIndex = i;
        }
        foreach (var rela in sections)
        {
            if (rela.Type != ShtRela || rela.Link != sections.IndexOf(dynsym)) continue;
            for (long r = rela.Offset; r < rela.Offset + rela.Size; r += 24)
                if ((long)(BitConverter.ToUInt64(b, (int)r + 8) >> 32) == markerIndex) return "a relocation uses the marker";
        }
        var flags = (ushort)(BitConverter.ToUInt16(b, auxOffset + 4) | VerFlgWeak);
        BitConverter.GetBytes(flags).CopyTo(b, auxOffset + 4);
        return "patched";
    }

    private static string Str(byte[] b, long offset)
    {
        int end = (int)offset;
        while (b[end] != 0) end++;
        return Encoding.ASCII.GetString(b, (int)offset, end - (int)offset);
    }
}
