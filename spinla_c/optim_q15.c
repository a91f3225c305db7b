/* Optimiser updates on one DTCM tile: SGD (with momentum) and Adam, element by element.
 *
 * Every array is q15 with its own fractional bits; the maths in between is exact int32/int64
 * and every stored result (weight, velocity, first moment, RMS) is rounded once, normally
 * stochastically, with saturation counted.  The learning rate arrives as a one-element q0.15
 * input (L, meaning L * 2^-(15 + lr_exp)) so that a schedule or Adam's bias correction can
 * change it every step without re-tracing the Program.
 *
 * Adam keeps r = sqrt(v) (an RMS) instead of v: v spans the square of the gradient's dynamic
 * range, which 16 bits cannot hold, r spans the same range as g.  m and r share one format,
 * g_shift bits finer than the gradient's (the gradient format is sized for the largest sums,
 * the moments for their typical size); a gradient beyond that range is clipped to it
 * (counted as a saturation) before it enters the moments.
 *   m' = b1 m + (1 - b1) g                        exact in Q30 constants, rounded to q15
 *   r' = sqrt(b2 r^2 + (1 - b2) g^2)              exact 62-bit radicand, table square root
 *   w' = w - lr_t * m'/(r' + eps)                 table reciprocal, no division
 * The ARM968 has no divider and no square root, and a libgcc division costs ~100-200 cycles,
 * so both are normalise-then-interpolate lookups (CLZ, one 64-bit table read, one multiply):
 * relative error below 2^-18, far under the final rounding.  The same code vectorises on the
 * host (no calls, no branches in the element loop), which keeps emulated training fast.
 * m' and r' used by the update are the unrounded values (15 extra bits); the ones stored are
 * rounded.  eps is floored at one LSB of r (see spinla/kernels/optim.py): r is only known to an
 * LSB, and a smaller floor lets a decayed m over a zero r produce huge steps.
 *
 * The rounding below is an inline twin of spl_requant_q63() (requant_q15.c) and the random
 * bits come from the inline hash of spl_rand.h: a call per element would stop the host
 * compiler vectorising the loop.  tests/test_nn_optim.py checks them bit for bit against the NumPy reference. */
#include "spinla.h"
#include "spl_rand.h"
#include "spl_simd.h"

#define SQRT_LUT_N 384
#define RECIP_LUT_N 256

/* Entry j: floor(2^30 sqrt(1 + j/128)) = isqrt((128 + j) << 53) in the high word, the step to
 * entry j + 1 in the low word (one 64-bit load per lookup: LDRD on the ARM968, one gather on
 * the host). */
static const uint64_t sqrt_lut[SQRT_LUT_N] = {
    0x40000000003FE01Fu, 0x403FE01F003FA0DEu, 0x407F80FD003F6256u, 0x40BEE353003F2485u,
    0x40FE07D8003EE768u, 0x413CEF40003EAAFBu, 0x417B9A3B003E6F3Bu, 0x41BA0976003E3424u,
    0x41F83D9A003DF9B4u, 0x4236374E003DBFE8u, 0x4273F736003D86BBu, 0x42B17DF1003D4E2Du,
    0x42EECC1E003D163Au, 0x432BE258003CDEDEu, 0x4368C136003CA818u, 0x43A5694E003C71E5u,
    0x43E1DB33003C3C42u, 0x441E1775003C072Du, 0x445A1EA2003BD2A4u, 0x4495F146003B9EA2u,
    0x44D18FE8003B6B29u, 0x450CFB11003B3833u, 0x45483344003B05C0u, 0x45833904003AD3CDu,
    0x45BE0CD1003AA258u, 0x45F8AF29003A715Eu, 0x46332087003A40DFu, 0x466D6166003A10D7u,
    0x46A7723D0039E146u, 0x46E153830039B229u, 0x471B05AC0039837Eu, 0x4754892A00395544u,
    0x478DDE6E00392778u, 0x47C705E60038FA1Au, 0x480000000038CD26u, 0x4838CD260038A09Du,
    0x48716DC30038747Cu, 0x48A9E23F003848C1u, 0x48E22B0000381D6Bu, 0x491A486B0037F279u,
    0x49523AE40037C7E9u, 0x498A02CD00379DB9u, 0x49C1A086003773E8u, 0x49F9146E00374A76u,
    0x4A305EE400372160u, 0x4A6780440036F8A4u, 0x4A9E78E80036D043u, 0x4AD5492B0036A83Au,
    0x4B0BF16500368088u, 0x4B4271ED0036592Cu, 0x4B78CB1900363225u, 0x4BAEFD3E00360B72u,
    0x4BE508B00035E511u, 0x4C1AEDC10035BF01u, 0x4C50ACC200359942u, 0x4C864604003573D1u,
    0x4CBBB9D500354EAFu, 0x4CF10884003529DAu, 0x4D26325E00350551u, 0x4D5B37AF0034E112u,
    0x4D9018C10034BD1Du, 0x4DC4D5DE00349972u, 0x4DF96F500034760Eu, 0x4E2DE55E003452F2u,
    0x4E6238500034301Bu, 0x4E96686B00340D8Au, 0x4ECA75F50033EB3Du, 0x4EFE61320033C934u,
    0x4F322A660033A76Du, 0x4F65D1D3003385E8u, 0x4F9957BB003364A4u, 0x4FCCBC5F003343A1u,
    0x50000000003322DBu, 0x503322DB00330255u, 0x506625300032E20Du, 0x5099073D0032C201u,
    0x50CBC93E0032A232u, 0x50FE6B700032829Fu, 0x5130EE0F00326346u, 0x5163515500324427u,
    0x5195957C00322541u, 0x51C7BABD00320695u, 0x51F9C1520031E820u, 0x522BA9720031C9E3u,
    0x525D73550031ABDDu, 0x528F1F3200318E0Bu, 0x52C0AD3D00317071u, 0x52F21DAE0031530Bu,
    0x532370B9003135D8u, 0x5354A691003118DAu, 0x5385BF6B0030FC0Eu, 0x53B6BB790030DF76u,
    0x53E79AEF0030C30Eu, 0x54185DFD0030A6D8u, 0x544904D500308AD3u, 0x54798FA800306EFFu,
    0x54A9FEA700305359u, 0x54DA5200003037E3u, 0x550A89E300301C9Bu, 0x553AA67E00300182u,
    0x556AA800002FE696u, 0x559A8E96002FCBD8u, 0x55CA5A6E002FB145u, 0x55FA0BB3002F96DFu,
    0x5629A292002F7CA5u, 0x56591F37002F6296u, 0x568881CD002F48B1u, 0x56B7CA7E002F2EF7u,
    0x56E6F975002F1566u, 0x57160EDB002EFC00u, 0x57450ADB002EE2C1u, 0x5773ED9C002EC9ACu,
    0x57A2B748002EB0BFu, 0x57D16807002E97F9u, 0x58000000002E7F5Au, 0x582E7F5A002E66E2u,
    0x585CE63C002E4E91u, 0x588B34CD002E3667u, 0x58B96B34002E1E60u, 0x58E78994002E0681u,
    0x59159015002DEEC6u, 0x59437EDB002DD72Eu, 0x59715609002DBFBDu, 0x599F15C6002DA86Eu,
    0x59CCBE34002D9142u, 0x59FA4F76002D7A3Bu, 0x5A27C9B1002D6356u, 0x5A552D07002D4C92u,
    0x5A827999002D35F3u, 0x5AAFAF8C002D1F73u, 0x5ADCCEFF002D0916u, 0x5B09D815002CF2D9u,
    0x5B36CAEE002CDCBEu, 0x5B63A7AC002CC6C3u, 0x5B906E6F002CB0E9u, 0x5BBD1F58002C9B2Du,
    0x5BE9BA85002C8592u, 0x5C164017002C7016u, 0x5C42B02D002C5AB9u, 0x5C6F0AE6002C457Au,
    0x5C9B5060002C305Bu, 0x5CC780BB002C1B58u, 0x5CF39C13002C0675u, 0x5D1FA288002BF1AEu,
    0x5D4B9436002BDD05u, 0x5D77713B002BC879u, 0x5DA339B4002BB40Au, 0x5DCEEDBE002B9FB7u,
    0x5DFA8D75002B8B80u, 0x5E2618F5002B7766u, 0x5E51905B002B6367u, 0x5E7CF3C2002B4F84u,
    0x5EA84346002B3BBBu, 0x5ED37F01002B280Fu, 0x5EFEA710002B147Cu, 0x5F29BB8C002B0105u,
    0x5F54BC91002AEDA7u, 0x5F7FAA38002ADA63u, 0x5FAA849B002AC73Au, 0x5FD54BD5002AB42Bu,
    0x60000000002AA133u, 0x602AA133002A8E56u, 0x60552F89002A7B92u, 0x607FAB1B002A68E6u,
    0x60AA1401002A5653u, 0x60D46A54002A43D9u, 0x60FEAE2D002A3175u, 0x6128DFA2002A1F2Bu,
    0x6152FECD002A0CF8u, 0x617D0BC50029FADCu, 0x61A706A10029E8D8u, 0x61D0EF790029D6EBu,
    0x61FAC6640029C514u, 0x62248B780029B355u, 0x624E3ECD0029A1ADu, 0x6277E07A00299019u,
    0x62A1709300297E9Eu, 0x62CAEF3100296D37u, 0x62F45C6800295BE6u, 0x631DB84E00294AABu,
    0x634702F900293987u, 0x63703C8000292875u, 0x639964F50029177Bu, 0x63C27C7000290695u,
    0x63EB83050028F5C3u, 0x641478C80028E507u, 0x643D5DCF0028D45Fu, 0x6466322E0028C3CAu,
    0x648EF5F80028B34Bu, 0x64B7A9430028A2DFu, 0x64E04C2200289286u, 0x6508DEA800288243u,
    0x653160EB00287211u, 0x6559D2FC002861F5u, 0x658234F1002851E9u, 0x65AA86DA002841F3u,
    0x65D2C8CD0028320Eu, 0x65FAFADB0028223Cu, 0x66231D170028127Eu, 0x664B2F95002802D1u,
    0x667332660027F337u, 0x669B259D0027E3AFu, 0x66C3094C0027D439u, 0x66EADD850027C4D5u,
    0x6712A25A0027B583u, 0x673A57DD0027A642u, 0x6761FE1F00279713u, 0x67899532002787F6u,
    0x67B11D28002778E9u, 0x67D89611002769EFu, 0x6800000000275B03u, 0x68275B0300274C2Bu,
    0x684EA72E00273D62u, 0x6875E49000272EAAu, 0x689D133A00272002u, 0x68C4333C0027116Cu,
    0x68EB44A8002702E5u, 0x6912478D0026F46Eu, 0x69393BFB0026E608u, 0x696022030026D7B0u,
    0x6986F9B30026C96Bu, 0x69ADC31E0026BB33u, 0x69D47E510026AD0Bu, 0x69FB2B5C00269EF3u,
    0x6A21CA4F002690EBu, 0x6A485B3A002682F1u, 0x6A6EDE2B00267507u, 0x6A9553320026672Cu,
    0x6ABBBA5E0026595Fu, 0x6AE213BD00264BA2u, 0x6B085F5F00263DF3u, 0x6B2E9D5200263053u,
    0x6B54CDA5002622C1u, 0x6B7AF0660026153Eu, 0x6BA105A4002607CAu, 0x6BC70D6E0025FA62u,
    0x6BED07D00025ED0Au, 0x6C12F4DA0025DFC0u, 0x6C38D49A0025D283u, 0x6C5EA71D0025C554u,
    0x6C846C710025B834u, 0x6CAA24A50025AB20u, 0x6CCFCFC500259E1Au, 0x6CF56DDF00259122u,
    0x6D1AFF0100258437u, 0x6D40833800257759u, 0x6D65FA9100256A8Au, 0x6D8B651B00255DC5u,
    0x6DB0C2E000255110u, 0x6DD613F000254466u, 0x6DFB5856002537CAu, 0x6E20902000252B3Au,
    0x6E45BB5A00251EB7u, 0x6E6ADA1100251240u, 0x6E8FEC51002505D7u, 0x6EB4F2280024F979u,
    0x6ED9EBA10024ED28u, 0x6EFED8C90024E0E3u, 0x6F23B9AC0024D4ABu, 0x6F488E570024C87Eu,
    0x6F6D56D50024BC5Du, 0x6F9213320024B049u, 0x6FB6C37B0024A441u, 0x6FDB67BC00249844u,
    0x7000000000248C52u, 0x70248C520024806Du, 0x70490CBF00247493u, 0x706D8152002468C5u,
    0x7091EA1700245D03u, 0x70B6471A0024514Au, 0x70DA98640024459Fu, 0x70FEDE03002439FDu,
    0x7123180000242E68u, 0x71474668002422DCu, 0x716B69440024175Eu, 0x718F80A200240BE8u,
    0x71B38C8A0024007Eu, 0x71D78D080023F520u, 0x71FB82280023E9CBu, 0x721F6BF30023DE81u,
    0x72434A740023D343u, 0x72671DB70023C80Eu, 0x728AE5C50023BCE3u, 0x72AEA2A80023B1C5u,
    0x72D2546D0023A6AFu, 0x72F5FB1C00239BA4u, 0x731996C0002390A4u, 0x733D2764002385ADu,
    0x7360AD1100237AC1u, 0x738427D200236FDEu, 0x73A797B000236506u, 0x73CAFCB600235A38u,
    0x73EE56EE00234F73u, 0x7411A661002344B9u, 0x7434EB1A00233A07u, 0x7458252100232F60u,
    0x747B5481002324C3u, 0x749E794400231A2Fu, 0x74C1937300230FA4u, 0x74E4A31700230523u,
    0x7507A83A0022FAABu, 0x752AA2E50022F03Eu, 0x754D93230022E5D8u, 0x757078FB0022DB7Du,
    0x759354780022D12Au, 0x75B625A20022C6E1u, 0x75D8EC830022BCA0u, 0x75FBA9230022B26Au,
    0x761E5B8D0022A83Bu, 0x764103C800229E16u, 0x7663A1DE002293FAu, 0x768635D8002289E6u,
    0x76A8BFBE00227FDCu, 0x76CB3F9A002275D9u, 0x76EDB57300226BE0u, 0x77102153002261F0u,
    0x7732834300225807u, 0x7754DB4A00224E28u, 0x7777297200224451u, 0x77996DC300223A82u,
    0x77BBA845002230BCu, 0x77DDD901002226FFu, 0x7800000000221D48u, 0x78221D480022139Cu,
    0x784430E4002209F6u, 0x78663ADA0022005Au, 0x78883B340021F6C5u, 0x78AA31F90021ED38u,
    0x78CC1F310021E3B3u, 0x78EE02E40021DA37u, 0x790FDD1B0021D0C3u, 0x7931ADDE0021C755u,
    0x795375330021BDF1u, 0x797533240021B493u, 0x7996E7B70021AB3Eu, 0x79B892F50021A1F1u,
    0x79DA34E6002198ABu, 0x79FBCD9100218F6Cu, 0x7A1D5CFD00218636u, 0x7A3EE33300217D07u,
    0x7A60603A002173DFu, 0x7A81D41900216AC0u, 0x7AA33ED9002161A6u, 0x7AC4A07F00215896u,
    0x7AE5F91500214F8Cu, 0x7B0748A100214689u, 0x7B288F2A00213D8Eu, 0x7B49CCB80021349Bu,
    0x7B6B015300212BADu, 0x7B8C2D00002122C8u, 0x7BAD4FC8002119EAu, 0x7BCE69B200211113u,
    0x7BEF7AC500210842u, 0x7C1083070020FF79u, 0x7C3182800020F6B7u, 0x7C5279370020EDFCu,
    0x7C7367330020E548u, 0x7C944C7B0020DC9Au, 0x7CB529150020D3F4u, 0x7CD5FD090020CB54u,
    0x7CF6C85D0020C2BBu, 0x7D178B180020BA29u, 0x7D3845410020B19Du, 0x7D58F6DE0020A919u,
    0x7D799FF70020A09Au, 0x7D9A409100209823u, 0x7DBAD8B400208FB2u, 0x7DDB686600208748u,
    0x7DFBEFAE00207EE3u, 0x7E1C6E9100207687u, 0x7E3CE51800206E2Fu, 0x7E5D5347002065DFu,
    0x7E7DB92600205D94u, 0x7E9E16BA00205551u, 0x7EBE6C0B00204D13u, 0x7EDEB91E002044DCu,
    0x7EFEFDFA00203CACu, 0x7F1F3AA600203480u, 0x7F3F6F2600202C5Cu, 0x7F5F9B820020243Du,
    0x7F7FBFBF00201C25u, 0x7F9FDBE400201413u, 0x7FBFEFF700200C07u, 0x7FDFFBFE00200402u,
};

/* Entry j: floor(2^62 / ((256 + j) << 23)) = 2^31 / (1 + j/256) in the high word, the drop to
 * entry j + 1 in the low word. */
static const uint64_t recip_lut[RECIP_LUT_N] = {
    0x80000000007F8080u, 0x7F807F80007E8379u, 0x7F01FC07007D895Fu, 0x7E8472A8007C922Au,
    0x7E07E07E007B9DCCu, 0x7D8C42B2007AAC39u, 0x7D1196790079BD69u, 0x7C97D9100078D14Fu,
    0x7C1F07C10077E7E0u, 0x7BA71FE100770115u, 0x7B301ECC00761CE2u, 0x7ABA01EA00753B3Bu,
    0x7A44C6AF00745C19u, 0x79D06A9600737F72u, 0x795CEB240072A53Du, 0x78EA45E70071CD6Fu,
    0x787878780070F800u, 0x78078078007024E9u, 0x77975B8F006F541Du, 0x77280772006E8598u,
    0x76B981DA006DB94Eu, 0x764BC88C006CEF3Au, 0x75DED952006C2751u, 0x7572B201006B618Cu,
    0x75075075006A9DE6u, 0x749CB28F0069DC52u, 0x7432D63D00691CCCu, 0x73C9B97100685F4Du,
    0x73615A240067A3CCu, 0x72F9B6580066EA43u, 0x7292CC15006632AAu, 0x722C996B00657CFAu,
    0x71C71C710064C92Du, 0x716253440064173Du, 0x70FE3C0700636723u, 0x709AD4E40062B8D6u,
    0x70381C0E00620C54u, 0x6FD60FBA00616194u, 0x6F74AE260060B890u, 0x6F13F59600601143u,
    0x6EB3E453005F6BA7u, 0x6E5478AC005EC7B5u, 0x6DF5B0F7005E2569u, 0x6D978B8E005D84BBu,
    0x6D3A06D3005CE5A8u, 0x6CDD212B005C482Au, 0x6C80D901005BAC3Au, 0x6C252CC7005B11D5u,
    0x6BCA1AF2005A78F4u, 0x6B6FA1FE0059E193u, 0x6B15C06B00594BADu, 0x6ABC74BE0058B73Du,
    0x6A63BD810058243Du, 0x6A0B9944005792A9u, 0x69B4069B0057027Eu, 0x695D041D005673B4u,
    0x690690690055E64Au, 0x68B0AA1F00555A3Au, 0x685B4FE50054CF7Du, 0x6806806800544614u,
    0x67B23A540053BDF7u, 0x675E7C5D00533722u, 0x670B453B0052B192u, 0x66B893A900522D43u,
    0x666666660051AA30u, 0x6614BC3600512856u, 0x65C393E00050A7B1u, 0x6572EC2F0050283Cu,
    0x6522C3F3004FA9F5u, 0x64D319FE004F2CD7u, 0x6483ED27004EB0DFu, 0x64353C48004E360Au,
    0x63E7063E004DBC53u, 0x639949EB004D43B7u, 0x634C0634004CCC33u, 0x62FF3A01004C55C4u,
    0x62B2E43D004BE065u, 0x626703D8004B6C16u, 0x621B97C2004AF8CFu, 0x61D09EF3004A8692u,
    0x61861861004A1558u, 0x613C03090049A51Fu, 0x60F25DEA004935E4u, 0x60A928060048C7A6u,
    0x6060606000485A5Fu, 0x601806010047EE0Du, 0x5FD017F4004782AFu, 0x5F88954500471840u,
    0x5F417D050046AEBDu, 0x5EFACE4800464625u, 0x5EB488230045DE75u, 0x5E6EA9AE004577A9u,
    0x5E293205004511BFu, 0x5DE420460044ACB6u, 0x5D9F739000444888u, 0x5D5B2B080043E537u,
    0x5D1745D1004382BCu, 0x5CD3C31500432118u, 0x5C90A1FD0042C047u, 0x5C4DE1B600426046u,
    0x5C0B817000420115u, 0x5BC9805B0041A2AEu, 0x5B87DDAD00414513u, 0x5B46989A0040E83Fu,
    0x5B05B05B00408C31u, 0x5AC5242A004030E5u, 0x5A84F345003FD65Bu, 0x5A451CEA003F7C90u,
    0x5A05A05A003F2382u, 0x59C67CD8003ECB2Fu, 0x5987B1A9003E7395u, 0x59493E14003E1CB0u,
    0x590B2164003DC682u, 0x58CD5AE2003D7106u, 0x588FE9DC003D1C3Cu, 0x5852CDA0003CC81Fu,
    0x58160581003C74B1u, 0x57D990D0003C21EDu, 0x579D6EE3003BCFD4u, 0x57619F0F003B7E61u,
    0x572620AE003B2D95u, 0x56EAF319003ADD6Du, 0x56B015AC003A8DE8u, 0x567587C4003A3F02u,
    0x563B48C20039F0BDu, 0x560158050039A314u, 0x55C7B4F100395608u, 0x558E5EE900390994u,
    0x555555550038BDBBu, 0x551C979A00387277u, 0x54E42523003827C9u, 0x54ABFD5A0037DDAFu,
    0x54741FAB00379427u, 0x543C8B8400374B30u, 0x54054054003702C9u, 0x53CE3D8B0036BAEFu,
    0x5397829C003673A1u, 0x53610EFB00362CDFu, 0x532AE21C0035E6A6u, 0x52F4FB760035A0F5u,
    0x52BF5A8100355BCCu, 0x5289FEB500351727u, 0x5254E78E0034D306u, 0x5220148800348F6Au,
    0x51EB851E00344C4Du, 0x51B738D1003409B2u, 0x51832F1F0033C794u, 0x514F678B003385F6u,
    0x511BE195003344D3u, 0x50E89CC20033042Bu, 0x50B598970032C3FEu, 0x5082D49900328449u,
    0x505050500032450Cu, 0x501E0B4400320646u, 0x4FEC04FE0031C7F4u, 0x4FBA3D0A00318A17u,
    0x4F88B2F300314CADu, 0x4F57664600310FB5u, 0x4F2656910030D32Du, 0x4EF5836400309716u,
    0x4EC4EC4E00305B6Du, 0x4E9490E100302031u, 0x4E6470B0002FE563u, 0x4E348B4D002FAAFFu,
    0x4E04E04E002F7107u, 0x4DD56F47002F3778u, 0x4DA637CF002EFE51u, 0x4D77397E002EC592u,
    0x4D4873EC002E8D39u, 0x4D19E6B3002E5546u, 0x4CEB916D002E1DB8u, 0x4CBD73B5002DE68Du,
    0x4C8F8D28002DAFC5u, 0x4C61DD63002D795Fu, 0x4C346404002D4359u, 0x4C0720AB002D0DB5u,
    0x4BDA12F6002CD86Fu, 0x4BAD3A87002CA386u, 0x4B809701002C6EFDu, 0x4B542804002C3ACEu,
    0x4B27ED36002C06FDu, 0x4AFBE639002BD385u, 0x4AD012B4002BA069u, 0x4AA4724B002B6DA4u,
    0x4A7904A7002B3B39u, 0x4A4DC96E002B0924u, 0x4A22C04A002AD768u, 0x49F7E8E2002AA600u,
    0x49CD42E2002A74EFu, 0x49A2CDF3002A4431u, 0x497889C2002A13C8u, 0x494E75FA0029E3B1u,
    0x492492490029B3EDu, 0x48FADE5C0029847Au, 0x48D159E200295558u, 0x48A8048A00292686u,
    0x487EDE040028F803u, 0x4855E6010028C9D0u, 0x482D1C3100289BE9u, 0x4804804800286E51u,
    0x47DC11F700284106u, 0x47B3D0F100281405u, 0x478BBCEC0027E750u, 0x4763D59C0027BAE6u,
    0x473C1AB600278EC6u, 0x47148BF0002762EFu, 0x46ED290100273762u, 0x46C5F19F00270C1Bu,
    0x469EE5840026E11Du, 0x467804670026B665u, 0x46514E0200268BF4u, 0x462AC20E002661C8u,
    0x46046046002637E2u, 0x45DE286400260E3Fu, 0x45B81A250025E4E2u, 0x459235430025BBC6u,
    0x456C797D002592EEu, 0x4546E68F00256A57u, 0x45217C3800254204u, 0x44FC3A34002519F0u,
    0x44D720440024F21Du, 0x44B22E270024CA8Au, 0x448D639D0024A337u, 0x4468C06600247C22u,
    0x444444440024554Cu, 0x441FEEF800242EB5u, 0x43FBC04300240859u, 0x43D7B7EA0023E23Bu,
    0x43B3D5AF0023BC59u, 0x43901956002396B4u, 0x436C82A20023714Au, 0x4349115800234C1Au,
    0x4325C53E00232724u, 0x43029E1A0023026Au, 0x42DF9BB00022DDE8u, 0x42BCBDC80022B99Fu,
    0x429A04290022958Fu, 0x42776E9A002271B6u, 0x4254FCE400224E17u, 0x4232AECD00222AACu,
    0x421084210022077Bu, 0x41EE7CA60021E47Du, 0x41CC98290021C1B8u, 0x41AAD67100219F26u,
    0x4189374B00217CCAu, 0x4167BA8100215AA2u, 0x41465FDF002138AFu, 0x41252730002116EFu,
    0x410410410020F563u, 0x40E31ADE0020D40Au, 0x40C246D40020B2E3u, 0x40A193F1002091EDu,
    0x408102040020712Bu, 0x406090D900205099u, 0x4040404000203038u, 0x4020100800201008u,
};

/* One stored output's rounding, prepared outside the element loop so that the loop has no
 * branches: sat16(round(acc * 2^-s)) for 0 <= s <= 62, exactly as spl_requant_q63 does it. */
typedef struct {
    int32_t s, rs, ls;
    q63_t mask, half, odd;
    uint32_t seed;
} rounder_t;

static inline rounder_t rounder(int32_t s, int32_t mode, uint32_t seed)
{
    rounder_t r;
    int32_t s32 = s > 32 ? 32 : s;
    r.s = s;
    int32_t stoch = mode == SPL_ROUND_STOCHASTIC && s > 0;
    r.mask = stoch ? -1 : 0;
    r.rs = s > 0 ? 32 - s32 : 31;
    r.ls = s - s32;
    /* nearest: 2^(s-1) - 1 + bit s of acc, round half to even as spl_rne_offset */
    r.half = s > 0 && !stoch ? ((q63_t)1 << (s - 1)) - 1 : 0;
    r.odd = s > 0 && !stoch ? 1 : 0;
    r.seed = seed;
    return r;
}

/* `nearest` is a literal at every call (the element loops are instantiated once per mode,
 * below), so each loop computes only its own offset: no hash in nearest mode, no 64-bit
 * parity shift in stochastic mode (the ARM968 pays ~20 cycles for the one, ~8 for the
 * other). */
#if defined(__arm__)
/* On the ARM968 one out-of-line copy (the optimiser is cold code next to the MACs, and each
 * inlined copy of the 64-bit rounding is ~0.25 KB of ITCM): a call per output.  Adam rounds
 * only w' here; m' and r' have fixed shifts and their own inline forms below.  flatten keeps
 * the hash inside this copy (a leaf: a call to it would cost every SGD output a frame). */
#define ROUND_Q15_INLINE __attribute__((noinline, flatten))
#else
#define ROUND_Q15_INLINE inline __attribute__((always_inline))
#endif
static ROUND_Q15_INLINE q15_t round_q15(q63_t acc, const rounder_t *r, uint32_t index,
                                        uint32_t *sat, int nearest)
{
    q63_t off = nearest
        ? r->half + ((acc >> r->s) & r->odd)
        : (((q63_t)(spl_rand_inline(r->seed, index) >> r->rs) << r->ls) & r->mask);
    q63_t v = (acc + off) >> r->s;
    *sat += (uint32_t)(v > SPL_Q15_MAX) + (uint32_t)(v < SPL_Q15_MIN);
    v = v > SPL_Q15_MAX ? SPL_Q15_MAX : v;
    v = v < SPL_Q15_MIN ? SPL_Q15_MIN : v;
    return (q15_t)v;
}

/* round_q15 for s = 15 and 0 <= acc < 2^31 (Adam's RMS), the same result in 32-bit
 * arithmetic: acc + offset < 2^31 + 2^15 fits uint32, and the rounded value is never negative.
 * Small enough to inline on the ARM968 too, where it saves a call and the 64-bit shifts. */
static inline __attribute__((always_inline)) q15_t
round_u31_q15(uint32_t acc, uint32_t seed, uint32_t index, uint32_t *sat, int nearest)
{
    uint32_t off = nearest
        ? 0x3FFFu + ((acc >> 15) & 1u)
        : spl_rand_inline(seed, index) >> 17;
    uint32_t v = (acc + off) >> 15;
    *sat += (uint32_t)(v > SPL_Q15_MAX);
    v = v > SPL_Q15_MAX ? SPL_Q15_MAX : v;
    return (q15_t)v;
}

/* round_q15 for s = 30 and |acc| < 2^61 (Adam's first moment, |acc| < 2^45), the same result
 * with the shift a constant and the rounded value in int32: no call and no variable 64-bit
 * shifts on the ARM968.  In stochastic mode the offset is the hash's top 30 bits. */
static inline __attribute__((always_inline)) q15_t
round_s30_q15(q63_t acc, uint32_t seed, uint32_t index, uint32_t *sat, int nearest)
{
    q63_t off = nearest
        ? ((q63_t)1 << 29) - 1 + ((acc >> 30) & 1)
        : (q63_t)(spl_rand_inline(seed, index) >> 2);
    int32_t v = (int32_t)((acc + off) >> 30);
    *sat += (uint32_t)(v > SPL_Q15_MAX) + (uint32_t)(v < SPL_Q15_MIN);
    v = v > SPL_Q15_MAX ? SPL_Q15_MAX : v;
    v = v < SPL_Q15_MIN ? SPL_Q15_MIN : v;
    return (q15_t)v;
}

/* Index of the highest set bit of v > 0: CLZ on the ARM968 (ARMv5TE; GCC expands the 64-bit
 * form inline as two CLZs), lzcnt on the host. */
static inline int64_t top_bit(uint64_t v)
{
    return 63 - __builtin_clzll(v | 1u);
}

/* floor-ish sqrt of 0 <= v < 2^62 with relative error below 2^-18: normalise by an even shift
 * k into [2^60, 2^62), interpolate 2^30 sqrt(x / 2^60) between table points 1/128 apart, undo
 * half the shift. */
static inline __attribute__((always_inline)) uint32_t sqrt_u62(uint64_t v)
{
    int32_t n = (int32_t)top_bit(v);
    int32_t k = 60 - n + (n & 1);
    uint64_t x = v << k;
    int32_t idx = (int32_t)(x >> 53) - 128;
    uint32_t t = (uint32_t)(x >> 29) & 0xFFFFFFu;
    uint64_t e = sqrt_lut[idx];
    /* The step is below 2^22, so y < 2^31: 32-bit from here (one UMULL, a 32-bit shift). */
    uint32_t y = (uint32_t)(e >> 32) + (uint32_t)(((uint64_t)(uint32_t)e * t) >> 24);
    return v ? y >> (k >> 1) : 0;
}

/* num * 2^16 / den for num < 2^30, 1 <= den < 2^32, with relative error below 2^-18: normalise
 * den into [2^31, 2^32), interpolate 2^62 / x between table points 1/256 apart, multiply.
 * Both operands fit 32 bits, so the normalisation is one CLZ and a 32-bit shift, and the
 * multiplies are 32 x 32 -> 64 (UMULL on the ARM968). */
static inline __attribute__((always_inline)) uint64_t ratio_q16(uint32_t num, uint32_t den)
{
    int32_t n = 31 - __builtin_clz(den | 1u);
    uint32_t x = den << (31 - n);
    int32_t idx = (int32_t)(x >> 23) - 256;
    uint32_t t = x & 0x7FFFFFu;
    uint64_t e = recip_lut[idx];
    uint32_t y = (uint32_t)(e >> 32) - (uint32_t)(((uint64_t)(uint32_t)e * t) >> 23);
    return ((uint64_t)num * y) >> (15 + n);
}

static inline __attribute__((always_inline)) uint32_t
sgd_loop(const q15_t *restrict w, const q15_t *restrict g, const q15_t *restrict v, q15_t lr,
         q15_t *restrict w_out, q15_t *restrict v_out, int32_t n, const spl_sgd_t *p,
         uint32_t index0, const int nearest)
{
    uint32_t sat = 0;
    const q63_t L = lr, MU = p->mu;
    const int32_t ws = p->w_shift, ps = p->p_shift, vs = p->v_shift;
    const rounder_t rw = rounder(p->w_shift, p->mode, p->seed_w);
    const rounder_t rv = rounder(p->v_round, p->mode, p->seed_v);
    if (p->mu == 0) {
        /* w' = w - lr g, at the finer of the two scales. */
        for (int32_t i = 0; i < n; i++) {
            q63_t acc = ((q63_t)w[i] << ws) - ((L * g[i]) << ps);
            w_out[i] = round_q15(acc, &rw, index0 + (uint32_t)i, &sat, nearest);
        }
        return sat;
    }
    /* v' = mu v - lr g (Keras's velocity), then w' = w + v'.  One counter per output keeps
     * each a plain reduction the host compiler vectorises. */
    uint32_t sat_v = 0;
    for (int32_t i = 0; i < n; i++) {
        uint32_t ix = index0 + (uint32_t)i;
        q63_t vacc = ((MU * v[i]) << vs) - ((L * g[i]) << ps);
        q15_t vn = round_q15(vacc, &rv, ix, &sat_v, nearest);
        v_out[i] = vn;
        q63_t acc = ((q63_t)w[i] << ws) + vn;
        w_out[i] = round_q15(acc, &rw, ix, &sat, nearest);
    }
    return sat + sat_v;
}

uint32_t arm_sgd_q15(const q15_t *restrict w, const q15_t *restrict g,
                     const q15_t *restrict v, q15_t lr, q15_t *restrict w_out,
                     q15_t *restrict v_out, int32_t n, const spl_sgd_t *p, uint32_t index0)
{
    return p->mode == SPL_ROUND_STOCHASTIC
        ? sgd_loop(w, g, v, lr, w_out, v_out, n, p, index0, 0)
        : sgd_loop(w, g, v, lr, w_out, v_out, n, p, index0, 1);
}

static inline __attribute__((always_inline)) uint32_t
adam_loop(const q15_t *restrict w, const q15_t *restrict g, const q15_t *restrict m,
          const q15_t *restrict r, q15_t lr, q15_t *restrict w_out, q15_t *restrict m_out,
          q15_t *restrict r_out, int32_t n, const spl_adam_t *p, uint32_t index0,
          const int nearest)
{
    uint32_t sat = 0, sat_m = 0, sat_r = 0, sat_q = 0, sat_g = 0;
    const int32_t B1 = p->beta1, B2 = p->beta2;
    const int32_t L = lr;
    const uint32_t EPS = (uint32_t)p->eps;  /* eps <= 2^31 and r' < 2^31: r' + eps < 2^32 */
    const uint64_t QMAX = (uint64_t)p->ratio_max;
    const int32_t ws = p->w_shift, gs = p->g_shift;
    const rounder_t rw = rounder(p->w_shift, p->mode, p->seed_w);
    const uint32_t seed_m = p->seed_m, seed_r = p->seed_r;
    for (int32_t i = 0; i < n; i++) {
        uint32_t ix = index0 + (uint32_t)i;
        int32_t M = m[i], R = r[i];
        /* The gradient in the state's (finer) format, clipped to its range (counted);
         * g_shift <= 15, so it fits 32 bits. */
        int32_t G = (int32_t)g[i] << gs;
        sat_g += (uint32_t)(G > SPL_Q15_MAX) + (uint32_t)(G < -SPL_Q15_MAX);
        G = G > SPL_Q15_MAX ? SPL_Q15_MAX : G;
        G = G < -SPL_Q15_MAX ? -SPL_Q15_MAX : G;
        /* First moment: Q30 weights summing to exactly 1, so a constant gradient is a fixed
         * point; |macc| < 2^45.  b1 M + (1 - b1) G = b1 (M - G) + 2^30 G: one 32 x 32 -> 64
         * multiply (SMULL on the ARM968) instead of two 64-bit ones, the same value. */
        q63_t macc = (q63_t)B1 * (M - G) + ((q63_t)G << 30);
        m_out[i] = round_s30_q15(macc, seed_m, ix, &sat_m, nearest);
        /* Second moment as an RMS: radicand at most 2^60 (the same rewrite, R^2 and G^2 below
         * 2^31), root below 2^31 at 15 extra fractional bits. */
        int32_t R2 = R * R, G2 = G * G;
        uint64_t vacc = (uint64_t)((q63_t)B2 * (R2 - G2) + ((q63_t)G2 << 30));
        uint32_t rhi = sqrt_u62(vacc);
        r_out[i] = round_u31_q15(rhi, seed_r, ix, &sat_r, nearest);
        /* Step: lr_t * m'/(r' + eps), ratio in Q16 clamped (clamps count as saturation). */
        q63_t mhi = macc >> 15;
        uint32_t am = (uint32_t)(mhi < 0 ? -mhi : mhi);  /* < 2^30 */
        uint64_t q = ratio_q16(am, rhi + EPS);
        sat_q += (uint32_t)(q > QMAX);
        q = q > QMAX ? QMAX : q;
        /* q <= ratio_max < 2^31: SMULL. */
        q63_t step = (q63_t)L * (int32_t)q;
        step = mhi < 0 ? -step : step;
        q63_t acc = ((q63_t)w[i] << ws) - step;
        w_out[i] = round_q15(acc, &rw, ix, &sat, nearest);
    }
    return sat + sat_m + sat_r + sat_q + sat_g;
}

#if defined(SPL_SIMD_AVX2)
/* Host only, a CPU without AVX-512: the loop above eight elements at a time, in chunks
 * (GCC does not vectorise it for AVX2, which lacks 64-bit multiplies and leading-zero
 * counts). */
#include "host/adam_avx2.inc"
#elif defined(SPL_SIMD_AVX512)
/* Host only, the native AVX-512 build: 16 elements in 32-bit lanes, the tables read by byte
 * permutes (defines SPL_ADAM_AVX512 where the CPU has VBMI and CD). */
#include "host/adam_avx512.inc"
#endif

uint32_t arm_adam_q15(const q15_t *restrict w, const q15_t *restrict g,
                      const q15_t *restrict m, const q15_t *restrict r, q15_t lr,
                      q15_t *restrict w_out, q15_t *restrict m_out, q15_t *restrict r_out,
                      int32_t n, const spl_adam_t *p, uint32_t index0)
{
#if defined(__arm__)
    /* One copy on the ARM968, the mode tested per element (a branch round the hash): the
     * update runs once per weight per step, next to thousands of MACs per weight, and a
     * second instantiation is 1.4 KB of ITCM (spinla/armimage.py).  The host keeps one loop
     * per mode, which it vectorises. */
    return adam_loop(w, g, m, r, lr, w_out, m_out, r_out, n, p, index0,
                     p->mode != SPL_ROUND_STOCHASTIC);
#elif defined(SPL_SIMD_AVX2)
    return adam_avx2(w, g, m, r, lr, w_out, m_out, r_out, n, p, index0);
#elif defined(SPL_ADAM_AVX512)
    return adam_avx512(w, g, m, r, lr, w_out, m_out, r_out, n, p, index0);
#else
    return p->mode == SPL_ROUND_STOCHASTIC
        ? adam_loop(w, g, m, r, lr, w_out, m_out, r_out, n, p, index0, 0)
        : adam_loop(w, g, m, r, lr, w_out, m_out, r_out, n, p, index0, 1);
#endif
}

uint64_t spl_sqrt_u62(uint64_t v)
{
    return sqrt_u62(v);
}

uint64_t spl_ratio_q16(uint64_t num, uint64_t den)
{
    return ratio_q16((uint32_t)num, (uint32_t)den);  /* num < 2^30, den < 2^32 */
}
