/**
 * Cases re-expressed from smithy's ec2Query protocol tests
 * (smithy-lang/smithy smithy-aws-protocol-tests/model/ec2Query/{input,input-lists,xml-lists,
 * xml-errors,empty-input-output}.smithy), run through the generic decoder and encoder with a
 * hand-written model of the test service. Case ids are smithy's. Not covered, because the EC2
 * model never uses them: blobs, epoch-seconds timestamps, flattened output lists, idempotency
 * auto-fill (client-only).
 */
import { XMLParser } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { decodeQuery, encodeError, encodeResponseWithModel, type ServiceModel } from '../../src/protocol/ec2/index.js';

const TEST_SERVICE: ServiceModel = {
  apiVersion: '2020-01-08',
  xmlNamespace: 'https://example.com/',
  operations: {
    QueryLists: { input: 'QueryListsInput' },
    SimpleInputParams: { input: 'SimpleInputParamsInput' },
    QueryTimestamps: { input: 'QueryTimestampsInput' },
    NestedStructures: { input: 'NestedStructuresInput' },
    NoInputAndOutput: { output: 'Empty' },
    EmptyInputAndEmptyOutput: { input: 'Empty', output: 'Empty' },
    XmlLists: { output: 'XmlListsOutput' },
    GreetingWithErrors: { output: 'GreetingWithErrorsOutput' },
  },
  shapes: {
    String: { type: 'string' },
    Boolean: { type: 'boolean' },
    Integer: { type: 'integer' },
    Double: { type: 'double' },
    Timestamp: { type: 'timestamp' },
    FooEnum: { type: 'string', enum: ['Foo', 'Baz', 'Bar', '1', '0'] },
    Empty: { type: 'structure', members: {} },
    StringList: { type: 'list', member: { shape: 'String' } },
    IntegerList: { type: 'list', member: { shape: 'Integer' } },
    BooleanList: { type: 'list', member: { shape: 'Boolean' } },
    TimestampList: { type: 'list', member: { shape: 'Timestamp' } },
    FooEnumList: { type: 'list', member: { shape: 'FooEnum' } },
    NestedStringList: { type: 'list', member: { shape: 'StringList' } },
    GreetingStruct: { type: 'structure', members: { hi: { shape: 'String' } } },
    GreetingList: { type: 'list', member: { shape: 'GreetingStruct' } },
    ListWithXmlName: { type: 'list', member: { shape: 'String', locationName: 'item' } },
    NestedStructWithList: { type: 'structure', members: { ListArg: { shape: 'StringList' } } },
    QueryListsInput: {
      type: 'structure',
      members: {
        ListArg: { shape: 'StringList' },
        ComplexListArg: { shape: 'GreetingList' },
        ListArgWithXmlNameMember: { shape: 'ListWithXmlName' },
        ListArgWithXmlName: { shape: 'ListWithXmlName', locationName: 'Hi' },
        NestedWithList: { shape: 'NestedStructWithList' },
      },
    },
    SimpleInputParamsInput: {
      type: 'structure',
      members: {
        Foo: { shape: 'String' }, Bar: { shape: 'String' }, Baz: { shape: 'Boolean' }, Bam: { shape: 'Integer' },
        Boo: { shape: 'Double' }, FooEnum: { shape: 'FooEnum' },
        HasQueryName: { shape: 'String', queryName: 'A' },
        HasQueryAndXmlName: { shape: 'String', queryName: 'B', locationName: 'IgnoreMe' },
        UsesXmlName: { shape: 'String', locationName: 'c' },
      },
    },
    QueryTimestampsInput: { type: 'structure', members: { normalFormat: { shape: 'Timestamp' } } },
    StructArg: {
      type: 'structure',
      members: { StringArg: { shape: 'String' }, OtherArg: { shape: 'Boolean' }, RecursiveArg: { shape: 'StructArg' } },
    },
    NestedStructuresInput: { type: 'structure', members: { Nested: { shape: 'StructArg' } } },
    StructureListMember: { type: 'structure', members: { a: { shape: 'String', locationName: 'value' }, b: { shape: 'String', locationName: 'other' } } },
    StructureList: { type: 'list', member: { shape: 'StructureListMember', locationName: 'item' } },
    RenamedListMembers: { type: 'list', member: { shape: 'String', locationName: 'item' } },
    XmlListsOutput: {
      type: 'structure',
      members: {
        stringList: { shape: 'StringList' },
        stringSet: { shape: 'StringList' },
        integerList: { shape: 'IntegerList' },
        booleanList: { shape: 'BooleanList' },
        timestampList: { shape: 'TimestampList' },
        enumList: { shape: 'FooEnumList' },
        nestedStringList: { shape: 'NestedStringList' },
        renamedListMembers: { shape: 'RenamedListMembers', locationName: 'renamed' },
        structureList: { shape: 'StructureList', locationName: 'myStructureList' },
      },
    },
    GreetingWithErrorsOutput: { type: 'structure', members: { greeting: { shape: 'String' } } },
  },
};

const inputCases: Array<[string, string, Record<string, unknown>]> = [
  ['Ec2Lists', 'Action=QueryLists&Version=2020-01-08&ListArg.1=foo&ListArg.2=bar&ListArg.3=baz&ComplexListArg.1.Hi=hello&ComplexListArg.2.Hi=hola',
    { ListArg: ['foo', 'bar', 'baz'], ComplexListArg: [{ hi: 'hello' }, { hi: 'hola' }] }],
  ['Ec2EmptyQueryLists', 'Action=QueryLists&Version=2020-01-08', {}],
  ['Ec2ListArgWithXmlNameMember', 'Action=QueryLists&Version=2020-01-08&ListArgWithXmlNameMember.1=A&ListArgWithXmlNameMember.2=B',
    { ListArgWithXmlNameMember: ['A', 'B'] }],
  ['Ec2ListMemberWithXmlName', 'Action=QueryLists&Version=2020-01-08&Hi.1=A&Hi.2=B', { ListArgWithXmlName: ['A', 'B'] }],
  ['Ec2ListNestedStructWithList', 'Action=QueryLists&Version=2020-01-08&NestedWithList.ListArg.1=A&NestedWithList.ListArg.2=B',
    { NestedWithList: { ListArg: ['A', 'B'] } }],
  ['Ec2SimpleInputParamsStrings', 'Action=SimpleInputParams&Version=2020-01-08&Foo=val1&Bar=val2', { Foo: 'val1', Bar: 'val2' }],
  ['Ec2SimpleInputParamsStringAndBooleanTrue', 'Action=SimpleInputParams&Version=2020-01-08&Foo=val1&Baz=true', { Foo: 'val1', Baz: true }],
  ['Ec2SimpleInputParamsStringsAndBooleanFalse', 'Action=SimpleInputParams&Version=2020-01-08&Baz=false', { Baz: false }],
  ['Ec2SimpleInputParamsInteger', 'Action=SimpleInputParams&Version=2020-01-08&Bam=10', { Bam: 10 }],
  ['Ec2SimpleInputParamsFloat', 'Action=SimpleInputParams&Version=2020-01-08&Boo=10.8', { Boo: 10.8 }],
  ['Ec2Enums', 'Action=SimpleInputParams&Version=2020-01-08&FooEnum=Foo', { FooEnum: 'Foo' }],
  ['Ec2Query', 'Action=SimpleInputParams&Version=2020-01-08&A=Hi', { HasQueryName: 'Hi' }],
  ['Ec2QueryIsPreferred', 'Action=SimpleInputParams&Version=2020-01-08&B=Hi', { HasQueryAndXmlName: 'Hi' }],
  ['Ec2XmlNameIsUppercased', 'Action=SimpleInputParams&Version=2020-01-08&C=Hi', { UsesXmlName: 'Hi' }],
  ['Ec2TimestampsInput (normalFormat only)', 'Action=QueryTimestamps&Version=2020-01-08&NormalFormat=2015-01-25T08%3A00%3A00Z',
    { normalFormat: new Date(1422172800 * 1000) }],
  ['Ec2NestedStructures', 'Action=NestedStructures&Version=2020-01-08&Nested.StringArg=foo&Nested.OtherArg=true&Nested.RecursiveArg.StringArg=baz',
    { Nested: { StringArg: 'foo', OtherArg: true, RecursiveArg: { StringArg: 'baz' } } }],
  ['Ec2QueryNoInputAndOutput', 'Action=NoInputAndOutput&Version=2020-01-08', {}],
  ['Ec2QueryEmptyInputAndEmptyOutput', 'Action=EmptyInputAndEmptyOutput&Version=2020-01-08', {}],
];

describe('smithy ec2Query request cases → decodeQuery', () => {
  for (const [id, body, params] of inputCases) {
    it(id, () => {
      const decoded = decodeQuery(TEST_SERVICE, body);
      expect(decoded.version).toBe('2020-01-08');
      expect(decoded.input).toEqual(params);
    });
  }
  it('the ignored IgnoreMe xmlName is not accepted when a queryName exists', () => {
    expect(() => decodeQuery(TEST_SERVICE, 'Action=SimpleInputParams&Version=2020-01-08&IgnoreMe=Hi')).toThrow(/IgnoreMe is not recognized/);
  });
});

const parse = (xml: string): unknown => new XMLParser({ ignoreAttributes: false, parseTagValue: false, ignoreDeclaration: true }).parse(xml);

describe('smithy ec2Query response cases → encodeResponseWithModel', () => {
  it('Ec2XmlLists (non-flattened lists; timestamps in our millisecond form)', () => {
    const xml = encodeResponseWithModel(TEST_SERVICE, 'XmlLists', {
      stringList: ['foo', 'bar'], stringSet: ['foo', 'bar'], integerList: [1, 2], booleanList: [true, false],
      timestampList: [new Date(1398796238 * 1000), new Date(1398796238 * 1000)], enumList: ['Foo', '0'],
      nestedStringList: [['foo', 'bar'], ['baz', 'qux']], renamedListMembers: ['foo', 'bar'],
      structureList: [{ a: '1', b: '2' }, { a: '3', b: '4' }],
    }, 'requestid');
    const expected = `<XmlListsResponse xmlns="https://example.com/">
      <stringList><member>foo</member><member>bar</member></stringList>
      <stringSet><member>foo</member><member>bar</member></stringSet>
      <integerList><member>1</member><member>2</member></integerList>
      <booleanList><member>true</member><member>false</member></booleanList>
      <timestampList><member>2014-04-29T18:30:38.000Z</member><member>2014-04-29T18:30:38.000Z</member></timestampList>
      <enumList><member>Foo</member><member>0</member></enumList>
      <nestedStringList><member><member>foo</member><member>bar</member></member><member><member>baz</member><member>qux</member></member></nestedStringList>
      <renamed><item>foo</item><item>bar</item></renamed>
      <myStructureList><item><value>1</value><other>2</other></item><item><value>3</value><other>4</other></item></myStructureList>
      <requestId>requestid</requestId>
    </XmlListsResponse>`;
    expect(parse(xml)).toEqual(parse(expected));
  });

  it('Ec2XmlEmptyLists', () => {
    const xml = encodeResponseWithModel(TEST_SERVICE, 'XmlLists', { stringList: [], stringSet: [] }, 'r');
    expect(xml).toContain('<stringList/><stringSet/>');
  });

  it('Ec2GreetingWithErrors', () => {
    const xml = encodeResponseWithModel(TEST_SERVICE, 'GreetingWithErrors', { greeting: 'Hello' }, 'requestid');
    expect(parse(xml)).toEqual(parse('<GreetingWithErrorsResponse xmlns="https://example.com/"><greeting>Hello</greeting><requestId>requestid</requestId></GreetingWithErrorsResponse>'));
  });

  it('Ec2InvalidGreetingError', () => {
    const expected = '<Response><Errors><Error><Code>InvalidGreeting</Code><Message>Hi</Message></Error></Errors><RequestID>foo-id</RequestID></Response>';
    expect(parse(encodeError('InvalidGreeting', 'Hi', 'foo-id'))).toEqual(parse(expected));
  });

  for (const action of ['NoInputAndOutput', 'EmptyInputAndEmptyOutput']) {
    it(`Ec2Query${action} (an empty output shape: just the request id)`, () => {
      const xml = encodeResponseWithModel(TEST_SERVICE, action, {}, 'requestid');
      expect(parse(xml)).toEqual(parse(`<${action}Response xmlns="https://example.com/"><requestId>requestid</requestId></${action}Response>`));
    });
  }
});
