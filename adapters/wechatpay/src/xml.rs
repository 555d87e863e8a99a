//! WeChat Pay's XML: one `<xml>` root with flat child elements, values as text or CDATA.
//! Read into a sorted map (signatures cover every field, known or not) with limits on size
//! and field count.
use std::collections::BTreeMap;

use quick_xml::Reader;
use quick_xml::events::Event;

pub const FIELDS_MAX: usize = 256;
pub const XML_BYTES_MAX: usize = 64 * 1024;

pub type Fields = BTreeMap<String, String>;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XmlError(pub &'static str);

/// `<xml><k><![CDATA[v]]></k>...</xml>`; CDATA keeps any text safe (a `]]>` inside a value
/// is split across two sections).
pub fn write(fields: &Fields) -> String {
    let mut out = String::from("<xml>");
    for (k, v) in fields {
        out.push('<');
        out.push_str(k);
        out.push_str("><![CDATA[");
        out.push_str(&v.replace("]]>", "]]]]><![CDATA[>"));
        out.push_str("]]></");
        out.push_str(k);
        out.push('>');
    }
    out.push_str("</xml>");
    out
}

pub fn read(bytes: &[u8]) -> Result<Fields, XmlError> {
    if bytes.len() > XML_BYTES_MAX {
        return Err(XmlError("XML body too large"));
    }
    let text = std::str::from_utf8(bytes).map_err(|_| XmlError("XML is not UTF-8"))?;
    let mut reader = Reader::from_str(text);
    let mut fields = Fields::new();
    let mut depth = 0usize;
    let mut current: Option<String> = None;
    let mut value = String::new();
    let mut seen_root = false;
    loop {
        match reader.read_event().map_err(|_| XmlError("malformed XML"))? {
            Event::Start(e) => {
                depth += 1;
                let name = e.name().as_ref().to_owned();
                match depth {
                    1 if name == "xml" => seen_root = true,
                    1 => return Err(XmlError("root element must be <xml>")),
                    2 => {
                        current = Some(name);
                        value.clear();
                    }
                    _ => return Err(XmlError("nested elements are not allowed")),
                }
            }
            Event::Empty(e) if depth == 1 => {
                let name = e.name().as_ref().to_owned();
                fields.insert(name, String::new());
            }
            Event::Text(t) if current.is_some() => {
                value.push_str(&t.xml10_content());
            }
            Event::GeneralRef(r) if current.is_some() => {
                if let Ok(Some(ch)) = r.resolve_char_ref() {
                    value.push(ch);
                    continue;
                }
                let name = r.xml10_content();
                let ch = match name.as_ref() {
                    "lt" => '<',
                    "gt" => '>',
                    "amp" => '&',
                    "quot" => '"',
                    "apos" => '\'',
                    _ => return Err(XmlError("unknown entity")),
                };
                value.push(ch);
            }
            Event::CData(c) if current.is_some() => {
                value.push_str(&c.into_inner());
            }
            Event::End(_) => {
                if depth == 2
                    && let Some(name) = current.take()
                {
                    if fields.len() >= FIELDS_MAX {
                        return Err(XmlError("too many fields"));
                    }
                    fields.insert(name, std::mem::take(&mut value));
                }
                depth = depth.saturating_sub(1);
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !seen_root || depth != 0 {
        return Err(XmlError("incomplete XML"));
    }
    Ok(fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_including_awkward_values() {
        let mut f = Fields::new();
        f.insert("body".into(), "ラーメン & <gyoza> ]]> end".into());
        f.insert("total_fee".into(), "1200".into());
        assert_eq!(read(write(&f).as_bytes()).unwrap(), f);
    }

    #[test]
    fn reads_plain_text_and_cdata() {
        let f = read(b"<xml><return_code><![CDATA[SUCCESS]]></return_code><rate>87520000</rate><a>x &amp; y</a></xml>").unwrap();
        assert_eq!(f["return_code"], "SUCCESS");
        assert_eq!(f["rate"], "87520000");
        assert_eq!(f["a"], "x & y");
    }

    #[test]
    fn refuses_what_is_not_wechat_xml() {
        assert!(read(b"{\"json\":1}").is_err());
        assert!(read(b"<root><a>1</a></root>").is_err());
        assert!(read(b"<xml><a><b>1</b></a></xml>").is_err());
        assert!(read(b"<xml><a>1</a>").is_err());
        assert!(read(&vec![b'a'; XML_BYTES_MAX + 1]).is_err());
    }
}
