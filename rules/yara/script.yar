/* crosswatch sample rules: script droppers.
 * A common JScript obfuscation builds every string from short array elements
 * (a[0] = "l"; a[1] = "gt"; ...) and runs the result with eval: many tiny quoted
 * fragments assigned to array slots plus an eval call. The "doc_uvedoml.js" in the
 * PyMISP sample mail_1.eml (zip inside a zip attachment) is written this way. */
rule js_fragmented_strings_eval
{
    meta:
        description = "JavaScript assembling strings from many array fragments and calling eval"
    strings:
        $fragment = /\w{1,16}\[\d{1,2}\] = "[^"\n]{1,4}";/
        $eval = "eval(" ascii
    condition:
        filesize < 2MB and #fragment >= 20 and $eval
}

/* Windows Script Host droppers: a shell object plus a download or run call. */
rule wsh_downloader
{
    meta:
        description = "Windows Script Host code creating a shell and fetching or running something"
    strings:
        $shell1 = "WScript.Shell" ascii nocase
        $shell2 = "Shell.Application" ascii nocase
        $get1 = "MSXML2.XMLHTTP" ascii nocase
        $get2 = "ADODB.Stream" ascii nocase
        $run = ".Run(" ascii nocase
    condition:
        filesize < 2MB and any of ($shell*) and (any of ($get*) or $run)
}
