import { describe, expect, it } from 'vitest';
import { htmlToText } from '../../../src/util/html-text.js';

const page = (body: string, head = '<title>Docs</title>') => `<!doctype html><html><head>${head}</head><body>${body}</body></html>`;

describe('htmlToText', () => {
  it('drops scripts, styles, noscript, template, svg, comments and head content except the title', () => {
    const html = `<!DOCTYPE html>
      <html lang="en"><head>
        <meta charset="utf-8"><title>  The   Title </title>
        <style>body { color: red }</style>
        <script>var x = "head script";</script>
        <link rel="stylesheet" href="a.css">
      </head>
      <body>
        <!-- a comment -->
        <h1>Hello</h1>
        <script type="module">console.log("body script")</script>
        <noscript>enable JavaScript</noscript>
        <template><p>template text</p></template>
        <svg><title>svg title</title><text>svg text</text></svg>
        <p>World</p>
      </body></html>`;
    const { text, title } = htmlToText(html);
    expect(text).toBe('The Title Hello World');
    expect(title).toBe('The Title');
  });

  it('gives the same text when only scripts, styles, attributes or whitespace change', () => {
    const a = htmlToText(
      page('<div class="a" data-build="1"><p>Some  text</p>\n<p>More</p></div><script>track(1)</script>', '<title>T</title><style>.a{}</style>'),
    );
    const b = htmlToText(
      page(
        '\n  <div class="b" data-build="2">\n    <p>Some\n text</p><p>More</p>\n  </div>\n<script>track(2); other()</script>',
        '<title> T </title><style>.b{color:blue}</style><script src="x.js"></script>',
      ),
    );
    expect(a.text).toBe('T Some text More');
    expect(b.text).toBe(a.text);
  });

  it('changes when the visible text changes', () => {
    expect(htmlToText(page('<p>version 1</p>')).text).not.toBe(htmlToText(page('<p>version 2</p>')).text);
  });

  it('decodes entities and collapses no-break spaces', () => {
    const { text, title } = htmlToText(page('<p>Fish &amp; chips&nbsp;&nbsp;&lt;3 &#x4e2d;&#25991; &eacute;</p>', '<title>A &amp; B</title>'));
    expect(text).toBe('A & B Fish & chips <3 中文 é');
    expect(title).toBe('A & B');
  });

  it('returns no title when there is none or it is empty', () => {
    expect(htmlToText('<p>x</p>').title).toBeUndefined();
    expect(htmlToText(page('<p>x</p>', '<title>  </title>')).title).toBeUndefined();
  });

  it('keeps body text when the head is never closed', () => {
    expect(htmlToText('<html><head><title>T</title><p>body text').text).toBe('T body text');
  });

  it('separates block elements but not inline ones', () => {
    expect(htmlToText('<p>a</p><p>b</p><span>c</span><b>d</b>e<br>f').text).toBe('a b cde f');
  });
});
