/**
 * A strict, small XML reader: well-formedness checked by saxes (an XML 1.0
 * conformant SAX parser), the result a plain element tree. DTDs are refused
 * outright, so no entity is ever expanded and nothing external is fetched.
 */
import { SaxesParser } from "saxes";
import { err, ok, type Result } from "./result.ts";

/** One element: its name, attributes, child elements and trimmed text content. */
export interface XmlElement {
  name: string;
  attributes: Readonly<Record<string, string>>;
  children: XmlElement[];
  text: string;
}

/** Parses a whole document into its root element, or says where and why it is not well-formed. */
export function parseXmlTree(xml: string): Result<XmlElement> {
  // Tracking line and column costs every document; only a refused one needs them, for its message.
  const tree = parseTree(xml, false);
  return tree.ok ? tree : parseTree(xml, true);
}

function parseTree(xml: string, position: boolean): Result<XmlElement> {
  const parser = new SaxesParser({ position });
  const stack: XmlElement[] = [];
  const texts: string[][] = [];
  let root: XmlElement | undefined;
  let refusal: string | undefined;
  parser.on("doctype", () => {
    refusal = "XML with a DOCTYPE is not accepted";
  });
  parser.on("opentag", (tag) => {
    const element: XmlElement = {
      name: tag.name,
      attributes: tag.attributes as Record<string, string>,
      children: [],
      text: "",
    };
    stack.at(-1)?.children.push(element);
    stack.push(element);
    texts.push([]);
  });
  const addText = (text: string) => texts.at(-1)?.push(text);
  parser.on("text", addText);
  parser.on("cdata", addText);
  parser.on("closetag", () => {
    const element = stack.pop()!;
    element.text = texts.pop()!.join("").trim();
    if (stack.length === 0) root = element;
  });
  try {
    parser.write(xml);
    if (refusal) return err(refusal);
    parser.close();
  } catch (error) {
    return err(refusal ?? `malformed XML: ${(error as Error).message}`);
  }
  if (refusal) return err(refusal);
  return root ? ok(root) : err("malformed XML: no root element");
}

/** The child elements of `element` named `name`. */
export function childrenNamed(element: XmlElement, name: string): XmlElement[] {
  return element.children.filter((child) => child.name === name);
}
