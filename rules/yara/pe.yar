/* crosswatch sample rules: Windows executables.
 * An MZ header whose e_lfanew field (offset 0x3C) points at a "PE\0\0" signature;
 * checking the pointer stays inside the file keeps the rule quiet on text that merely
 * starts with "MZ". */
rule pe_executable
{
    meta:
        description = "Windows PE executable (MZ header pointing at a PE signature)"
    condition:
        filesize > 0x40 and uint16(0) == 0x5A4D and
        uint32(0x3C) < filesize - 4 and uint32(uint32(0x3C)) == 0x00004550
}
