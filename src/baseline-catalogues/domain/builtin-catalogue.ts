/**
 * The product's own baseline catalogue, written in short English from the requirements of
 * Chapter 5 (users' important information, Art. 21-26) and Chapter 6 (crypto-asset
 * management, Art. 27-34) of the JVCEA "Rules on Information Security Management" (2018).
 *
 * References: `Art.N(p)` is paragraph p of article N and `Art.N(p)(i)` its item i; for an
 * article made only of items (Art. 22, 23 and 29) `Art.N(i)` is item i, as domain.md writes
 * Art.13(1) and Art.23(3). Ids are stable: never renumber one, add new ones at the end of their
 * chapter.
 */
import type { BaselineCatalogueState, BaselineRequirement } from './catalogue.state.js';

const r = (id: string, title: string, statement: string, reference: string): BaselineRequirement => ({ id, title, statement, reference });

const REQUIREMENTS: BaselineRequirement[] = [
  // Chapter 5: users' important information
  r(
    'JVCEA-5-01',
    "Inventory of users' important information",
    "All important information about users for which the firm is responsible is identified comprehensively, known and kept under management.",
    'Art.21(1)',
  ),
  r(
    'JVCEA-5-02',
    'Scope of the inventory',
    'The identification covers business processes, systems and outsourcing contractors, including data held in system areas not used in daily work, data dumped for fault analysis, and archived documents no longer in use.',
    'Art.21(2)',
  ),
  r(
    'JVCEA-5-03',
    'Encryption, hashing and masking rules',
    "Rules for encrypting, hashing and masking users' important information are set according to its importance and risk, and followed.",
    'Art.22(1)',
  ),
  r(
    'JVCEA-5-04',
    'Rules for use and for storage media',
    "Rules, set according to importance and risk, govern how users' important information may be used and how the recording media that hold it are handled.",
    'Art.22(2),(3)',
  ),
  r(
    'JVCEA-5-05',
    'Access rights limited by role',
    "Access rights to users' important information are granted only to the extent each employee's duties require.",
    'Art.23(1)',
  ),
  r(
    'JVCEA-5-06',
    'Access logs kept and checked',
    "Records of access to users' important information are retained and regularly examined.",
    'Art.23(2)',
  ),
  r(
    'JVCEA-5-07',
    'Segregation of duties',
    'Development and operations are done by different people, and managers are separated from the staff they oversee, so that each checks the other.',
    'Art.23(3)',
  ),
  r(
    'JVCEA-5-08',
    'Test and production environments separated',
    'System tests and similar work run in an environment separate from production.',
    'Art.23(4)',
  ),
  r(
    'JVCEA-5-09',
    'Protection of confidential information',
    'Management rules (encryption, hashing, masking and the like) are set for information whose leak could cause users a loss: cryptographic keys, PINs, passwords, credit card data and similar.',
    'Art.24(1)',
  ),
  r(
    'JVCEA-5-10',
    'Encryption programs, keys and design documents',
    'Rules govern the management of encryption programs, encryption keys and the design documents of encryption programs.',
    'Art.24(2)',
  ),
  r(
    'JVCEA-5-11',
    'Stricter handling of confidential information',
    'Holding and disposal of confidential information, access restrictions and taking it off the premises are allowed only after the business need has been examined, and handled more strictly than other information.',
    'Art.24(3)',
  ),
  r(
    'JVCEA-5-12',
    'Governance and handling standards for personal information',
    "An organisation and internal rules keep the management of user information appropriate, and standards for handling users' personal information follow the law and the applicable personal-information and financial-sector guidelines.",
    'Art.25(1),(2)',
  ),
  r(
    'JVCEA-5-13',
    'Hardened information systems',
    'Access to user information is strictly controlled, taking information out is prevented, and systems are defended against unauthorised access from outside.',
    'Art.25(3)',
  ),
  r(
    'JVCEA-5-14',
    'Personal data from customer due diligence',
    'Personal data obtained through anti-money-laundering and counter-terrorist-financing work is kept and disposed of as the AML/CFT rules require.',
    'Art.26',
  ),

  // Chapter 6: crypto-asset management
  r(
    'JVCEA-6-01',
    'Hot-wallet limit',
    'To limit theft by hacking, the amount of crypto assets kept online does not greatly exceed the amount expected to be sent out per unit of time.',
    'Art.27(1)(1)',
  ),
  r(
    'JVCEA-6-02',
    'Several wallets',
    'Crypto assets are spread over several wallets so that the risk of theft is distributed.',
    'Art.27(1)(2)',
  ),
  r(
    'JVCEA-6-03',
    'Current security intelligence',
    'The latest security information about each crypto asset held is gathered and used to improve how it is stored.',
    'Art.27(1)(3)',
  ),
  r(
    'JVCEA-6-04',
    'Deposit and withdrawal monitoring thresholds',
    'Deposits and withdrawals are monitored against set thresholds: the amount of a single instruction, the total instructed by one user within a period, and the total of all users per unit of time.',
    'Art.27(2)',
  ),
  r(
    'JVCEA-6-05',
    'Escalation when a threshold is reached',
    'When monitoring hits a threshold, the responsible person is told at once and trading can be suspended or other measures taken promptly.',
    'Art.27(3)',
  ),
  r(
    'JVCEA-6-06',
    'Generation of keys and seeds',
    'Rules fix who generates wallet keys and seeds, how the generation method is verified beforehand, the specifications of keys and random number generators, and how much random material is stored.',
    'Art.28(1)',
  ),
  r(
    'JVCEA-6-07',
    'Wallet addresses and specifications',
    'Rules fix the addresses used when crypto assets are moved, the specifications of the address-generating wallet, and how wallet functions are verified.',
    'Art.28(2)(1),(4),(5)',
  ),
  r(
    'JVCEA-6-08',
    'Signing quorum and recovery keys',
    'Rules fix how many private keys are needed to move crypto assets and how the private keys used for recovery are managed.',
    'Art.28(2)(2),(3)',
  ),
  r(
    'JVCEA-6-09',
    'Distributed custody of keys',
    'Cryptographic keys are distributed both across locations and across people or units, so that no single place or person controls them.',
    'Art.28(2)(6),(7)',
  ),
  r(
    'JVCEA-6-10',
    'Keys and seeds encrypted at rest',
    'Cryptographic keys and seeds are stored encrypted.',
    'Art.28(3)(1)',
  ),
  r(
    'JVCEA-6-11',
    'Backup keys and seeds',
    'For backup keys and seeds, rules fix where they are kept, how their condition is checked, who may access them, how access is detected, and that they are encrypted.',
    'Art.28(3)(2)-(6)',
  ),
  r(
    'JVCEA-6-12',
    'Authorised key users and environment',
    'People who use keys and seeds are authenticated and their suitability is confirmed, and keys are used only in a defined environment.',
    'Art.29(1)-(3)',
  ),
  r(
    'JVCEA-6-13',
    'Transfer checked before signing',
    'Every outgoing transfer is confirmed before it is signed.',
    'Art.29(4)',
  ),
  r(
    'JVCEA-6-14',
    'Multisignature keys stored apart',
    'The keys of a multisignature wallet are kept in separate places.',
    'Art.29(5)',
  ),
  r(
    'JVCEA-6-15',
    'Cryptographic algorithms and strength',
    'The encryption schemes and key strengths used are defined.',
    'Art.29(6)',
  ),
  r(
    'JVCEA-6-16',
    'Written response procedure for a leak of crypto assets',
    'A written procedure for responding to a leak of crypto assets exists, is revised whenever the systems that manage crypto assets change, and key holders are trained so that they can carry it out promptly.',
    'Art.30(1)-(3)',
  ),
  r(
    'JVCEA-6-17',
    'Compensation policy',
    'A policy sets how users will be compensated if crypto assets leak through a cyber attack or similar event.',
    'Art.30(4)',
  ),
  r(
    'JVCEA-6-18',
    'Granting and revoking key-holder privileges',
    'Privileges of key and seed holders are granted, changed and fully revoked reliably, following a procedure that identifies the system areas each holder may access.',
    'Art.31(1),(2)',
  ),
  r(
    'JVCEA-6-19',
    'Checklist of roles and privileges',
    'A checklist records the roles and the privileges granted in every information system involved in managing crypto assets.',
    'Art.31(3)',
  ),
  r(
    'JVCEA-6-20',
    'Approved and recorded privilege changes',
    'Every privilege change for key holders goes through a predefined approval, and who approved it, who carried it out and how the result was checked are recorded and kept.',
    'Art.31(4),(5)',
  ),
  r(
    'JVCEA-6-21',
    'Internal audit of key-holder privileges',
    'Internal audit verifies that privileges of key holders are granted and revoked properly.',
    'Art.31(6)',
  ),
  r(
    'JVCEA-6-22',
    'Periodic security inspection and remediation',
    'Systems that manage crypto assets are inspected regularly for important security matters such as vulnerability to intrusion and the management of privileged IDs; the vulnerabilities found are remedied under a set policy and plan.',
    'Art.32(1),(2)',
  ),
  r(
    'JVCEA-6-23',
    'Data erasure and disposal of media',
    'For every recording medium used in crypto-asset management, requirements and procedures for erasing data and for verifying disposal are defined, and each disposal is verified and recorded.',
    'Art.33(1),(2)',
  ),
  r(
    'JVCEA-6-24',
    'Daily reconciliation with the blockchain',
    'At least once a day the recorded quantity of crypto assets to be held is reconciled with the quantity recorded on the blockchain, and the absence of differences is confirmed.',
    'Art.34(1)',
  ),
  r(
    'JVCEA-6-25',
    'Discrepancies investigated and fixed',
    'A difference found by reconciliation is promptly traced to its cause and the assets are protected; when a program or system defect caused it, the program is corrected.',
    'Art.34(2)',
  ),
  r(
    'JVCEA-6-26',
    'Third-party audit of holdings',
    'The quantity of crypto assets the firm holds is audited by a third party.',
    'Art.34(3)',
  ),
];

export const BUILTIN_CATALOGUE_ID = 'jvcea-ism@2018';

export const BUILTIN_CATALOGUE: BaselineCatalogueState = Object.freeze({
  exists: true,
  id: BUILTIN_CATALOGUE_ID,
  streamVersion: -1,
  name: 'JVCEA Information Security Management (built-in)',
  version: '2018',
  builtIn: true,
  requirements: Object.freeze(REQUIREMENTS.map((req) => Object.freeze(req))) as unknown as BaselineRequirement[],
}) as BaselineCatalogueState;
