/* crosswatch sample rules: Office documents that carry VBA macros.
 * OOXML (.docm/.xlsm) keeps the project in a part named vbaProject.bin (seen in the
 * container's member list); the legacy binary formats (CDF) keep a _VBA_PROJECT
 * stream, whose directory entry name is UTF-16; the source modules start with
 * "Attribute VB_Name". */
rule office_vba_macros
{
    meta:
        description = "Office document or part carrying a VBA project (macros)"
    strings:
        $ooxml_part = "vbaProject.bin" ascii
        $cdf_stream = "_VBA_PROJECT" ascii wide
        $module = "Attribute VB_Name" ascii
    condition:
        any of them
}

/* Auto-run entry points make a macro run when the document opens. */
rule office_vba_autorun
{
    meta:
        description = "VBA source with an auto-run entry point"
    strings:
        $a1 = "AutoOpen" ascii nocase
        $a2 = "Document_Open" ascii nocase
        $a3 = "Workbook_Open" ascii nocase
        $module = "Attribute VB_Name" ascii
    condition:
        $module and any of ($a*)
}
